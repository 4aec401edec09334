"""Staff accounts from the command line.

    python -m backoffice.users create --username camille --role admin          # asks for the password
    echo "$PASSWORD" | python -m backoffice.users create --username camille --role trainer --password-stdin
    python -m backoffice.users password --username camille                      # change a password
    python -m backoffice.users list
"""
from __future__ import annotations

import argparse
import getpass
import sys

from townhall import accounts, config, db, schema


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    if first != getpass.getpass("Confirmez le mot de passe : "):
        raise accounts.AccountError("Les deux mots de passe ne sont pas identiques.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backoffice.users", description="Comptes du back office.")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="créer un compte")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=accounts.ROLES)
    create.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    create.add_argument("--if-missing", action="store_true", help="ne rien faire si le compte existe déjà")
    password = sub.add_parser("password", help="changer un mot de passe")
    password.add_argument("--username", required=True)
    password.add_argument("--password-stdin", action="store_true")
    sub.add_parser("list", help="lister les comptes")
    args = parser.parse_args(argv)

    url = config.database_url()
    schema.check(url)
    try:
        if args.command == "list":
            with db.unit_of_work(url) as session:
                for user in accounts.all_users(session):
                    print(f"{user.username}\t{user.role}\t{'actif' if user.active else 'désactivé'}")
            return 0
        if args.command == "create" and args.if_missing:
            with db.unit_of_work(url) as session:
                if accounts.find(session, args.username) is not None:
                    print(f"Le compte {accounts.normalise_username(args.username)} existe déjà.")
                    return 0
        secret = _password(args)
        with db.unit_of_work(url) as session:
            if args.command == "create":
                user = accounts.create_user(session, args.username, secret, args.role)
                print(f"Compte {user.username} créé (rôle : {accounts.ROLE_LABELS[user.role]}).")
            else:
                user = accounts.set_password(session, args.username, secret)
                print(f"Mot de passe de {user.username} modifié.")
    except accounts.AccountError as exc:
        print(f"Erreur : {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

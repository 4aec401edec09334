"""endpoints.production.yml as Rasa reads it, with the variables deploy.production_env derives."""
from __future__ import annotations

from pathlib import Path

from deploy import production_env

ROOT = Path(__file__).resolve().parents[2]


def test_every_variable_is_substituted_by_rasa(monkeypatch):
    from rasa.core.utils import AvailableEndpoints

    env = {
        "DATABASE_URL": "postgresql://rasa:p%40ss@db.example.org:5433/townhall",
        "REDIS_URL": "redis://cache.example.org:6380/3",
        "ACTIONS_PORT": "5055",
    }
    for key, value in {**env, **production_env.exports(env)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "token-for-tests")
    endpoints = AvailableEndpoints.read_endpoints(str(ROOT / "endpoints.production.yml"))

    assert endpoints.action.url == "http://localhost:5055/webhook"
    assert endpoints.action.headers == {"Authorization": "Bearer token-for-tests"}
    tracker = endpoints.tracker_store
    assert tracker.type == "deploy.tracker_store.ResilientSQLTrackerStore"
    from rasa.shared.utils.common import class_from_module_path
    from deploy.tracker_store import ResilientSQLTrackerStore
    assert class_from_module_path(tracker.type) is ResilientSQLTrackerStore  # else Rasa silently keeps conversations in memory
    assert tracker.url == "db.example.org"
    assert str(tracker.kwargs["port"]) == "5433"
    assert tracker.kwargs["db"] == "townhall"
    assert tracker.kwargs["username"] == "rasa"
    assert tracker.kwargs["password"] == "p@ss"
    lock = endpoints.lock_store
    assert lock.type == "redis"
    assert lock.url == "cache.example.org"
    assert str(lock.kwargs["port"]) == "6380"
    assert str(lock.kwargs["db"]) == "3"
    assert not any("${" in str(v) for v in (tracker.url, lock.url, endpoints.action.url, *tracker.kwargs.values()))


def test_the_embedded_default_sets_nothing():
    assert production_env.exports({"DATABASE_URL": "sqlite:///var/townhall.db"}) == {}
    assert production_env.exports({}) == {}


def test_url_parts_are_decoded_and_defaults_filled():
    values = production_env.exports({"DATABASE_URL": "postgresql+psycopg2://ville%40mairie:p%3Ass%2Fw@db/rasa_conv"})
    assert values["TRACKER_DATABASE_URL"] == "postgresql+psycopg2://ville%40mairie:p%3Ass%2Fw@db/rasa_conv"
    assert (values["TRACKER_DB_USER"], values["TRACKER_DB_PASSWORD"]) == ("ville@mairie", "p:ss/w")
    assert (values["TRACKER_DB_HOST"], values["TRACKER_DB_PORT"], values["TRACKER_DB_NAME"]) == ("db", "5432", "rasa_conv")
    assert (values["REDIS_HOST"], values["REDIS_PORT"], values["REDIS_DB"]) == ("127.0.0.1", "6379", "1")
    tracker = production_env.exports({"DATABASE_URL": "postgresql://a@b/c", "TRACKER_DATABASE_URL": "postgresql://t@h:6543/"})
    assert (tracker["TRACKER_DB_HOST"], tracker["TRACKER_DB_PORT"], tracker["TRACKER_DB_NAME"]) == ("h", "6543", "postgres")

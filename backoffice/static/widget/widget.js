/*!
 * Chat widget of the town hall's assistant. Embed with one tag:
 *   <script src="https://BACKOFFICE/widget.js" data-commune="Villeneuve-sur-Loire"
 *           data-server="https://RASA" defer></script>
 * Optional: data-color (#RRGGBB), data-logo (URL), data-welcome (text), data-lang (fr|en),
 * data-transport (socketio|rest), data-privacy-url (URL), data-storage (session|local: where the
 * last 30 messages are kept; "session" by default, forgotten when the tab is closed).
 *
 * Rules kept here: every string written by the bot or the citizen is inserted as text
 * (textContent / createTextNode), never as HTML; links only http(s)/mailto/tel; images only
 * http(s) or relative. Nothing is stored and nothing is loaded from the assistant's server
 * before the citizen opens the chat. When the assistant confirms the erasure of the
 * conversation (custom {"data": {"erase_history": true}}), the browser's copy is cleared too.
 */
(function () {
  "use strict";
  if (window.TownhallChat) { return; }

  var script = document.currentScript ||
    document.querySelector('script[src*="widget.js"][data-commune], script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var scriptUrl = new URL((script && script.src) || "/widget.js", document.baseURI);
  var BASE = scriptUrl.origin;

  var TEXTS = {
    fr: {
      open: "Ouvrir la discussion avec l'assistant de la mairie",
      launcher: "Assistant de la mairie",
      title: "Assistant de la mairie",
      titleOf: "Assistant de la mairie de ",
      close: "Fermer la discussion",
      restart: "Recommencer la conversation",
      restartConfirm: "La conversation a été recommencée.",
      label: "Écrivez votre message",
      placeholder: "Par exemple : rendez-vous pour un passeport",
      send: "Envoyer",
      typing: "L'assistant écrit…",
      you: "Vous : ",
      bot: "L'assistant : ",
      log: "Messages de la conversation",
      location: "Partager ma position",
      locating: "Recherche de votre position…",
      locationDenied: "Votre position n'a pas pu être obtenue. Vous pouvez écrire l'adresse.",
      locationUnavailable: "Votre navigateur ne permet pas de partager la position. Vous pouvez écrire l'adresse.",
      locationSent: "Ma position",
      newTab: " (nouvel onglet)",
      file: "Télécharger le fichier",
      image: "Image envoyée par l'assistant",
      offline: "Le service de discussion est momentanément indisponible. Merci de réessayer plus tard.",
      empty: "Merci d'écrire un message avant de l'envoyer.",
      tooLong: "Votre message est limité à 2 000 caractères. Vous pourrez compléter dans un second message.",
      counter: function (n, max) { return n + " / " + max + " caractères"; },
      remaining: function (n) { return "Il vous reste " + n + " caractères."; },
      welcome: "Bonjour ! Je suis l'assistant de la mairie. Je peux vous donner les horaires, vous aider à prendre rendez-vous ou à signaler un problème. Posez votre question.",
      privacy: "Vos messages sont traités par la mairie pour répondre à votre demande.",
      privacyLink: "En savoir plus sur vos données",
      choices: "Choix proposés"
    },
    en: {
      open: "Open the chat with the town hall's assistant",
      launcher: "Town hall assistant",
      title: "Town hall assistant",
      titleOf: "Assistant of the town hall of ",
      close: "Close the chat",
      restart: "Restart the conversation",
      restartConfirm: "The conversation has been restarted.",
      label: "Write your message",
      placeholder: "For example: appointment for a passport",
      send: "Send",
      typing: "The assistant is typing…",
      you: "You: ",
      bot: "Assistant: ",
      log: "Conversation messages",
      location: "Share my location",
      locating: "Finding your location…",
      locationDenied: "Your location could not be obtained. You can type the address.",
      locationUnavailable: "Your browser cannot share your location. You can type the address.",
      locationSent: "My location",
      newTab: " (new tab)",
      file: "Download the file",
      image: "Image sent by the assistant",
      offline: "The chat service is unavailable at the moment. Please try again later.",
      empty: "Please write a message before sending it.",
      tooLong: "Your message is limited to 2,000 characters. You can add more in a second message.",
      counter: function (n, max) { return n + " / " + max + " characters"; },
      remaining: function (n) { return n + " characters left."; },
      welcome: "Hello! I am the town hall's assistant. Ask your question.",
      privacy: "Your messages are processed by the town hall to answer your request.",
      privacyLink: "Learn more about your data",
      choices: "Suggested choices"
    }
  };
  var lang = (data.lang || "fr").slice(0, 2).toLowerCase();
  if (!TEXTS[lang]) { lang = "fr"; }
  var T = TEXTS[lang];

  var settings = {
    commune: data.commune || "",
    server: (data.server || "http://localhost:5005").replace(/\/+$/, ""),
    transport: data.transport === "rest" ? "rest" : "socketio",
    color: /^#[0-9a-fA-F]{6}$/.test(data.color || "") ? data.color : "#1f5a96",
    logo: data.logo || "",
    welcome: data.welcome || T.welcome,
    privacyUrl: data.privacyUrl || BASE + "/confidentialite"
  };
  var STORE = "townhall-chat:" + settings.server;
  var STORAGE = data.storage === "local" ? "localStorage" : "sessionStorage";
  var MAX_KEPT = 30;
  var MAX_LENGTH = 2000;  // the channels' cap (TOWNHALL_MAX_MESSAGE_CHARS)
  var WARN_REMAINING = 200;

  // ------------------------------------------------------------------ colours (4.5:1)
  function luminance(hex) {
    var rgb = [1, 3, 5].map(function (i) {
      var c = parseInt(hex.substr(i, 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  }
  function contrast(a, b) {
    var la = luminance(a), lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }
  function darken(hex, step) {
    return "#" + [1, 3, 5].map(function (i) {
      var c = Math.max(0, Math.round(parseInt(hex.substr(i, 2), 16) * (1 - step)));
      return ("0" + c.toString(16)).slice(-2);
    }).join("");
  }
  // "ink": the brand colour, darkened until it reads at 4.5:1 on white.
  var ink = settings.color;
  while (contrast(ink, "#ffffff") < 4.6) { ink = darken(ink, 0.08); }
  var onBrand = contrast(settings.color, "#ffffff") >= 4.6 ? "#ffffff" : "#111111";
  var brand = onBrand === "#111111" && contrast(settings.color, "#111111") < 4.6 ? ink : settings.color;
  if (brand === ink) { onBrand = "#ffffff"; }

  // ------------------------------------------------------------------ safe DOM helpers
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function safeUrl(value, kinds) {
    if (typeof value !== "string" || !value.trim()) { return null; }
    try {
      var url = new URL(value.trim(), BASE + "/");
      return kinds.indexOf(url.protocol) >= 0 ? url.href : null;
    } catch (e) { return null; }
  }
  var LINK_KINDS = ["http:", "https:", "mailto:", "tel:"];
  var IMAGE_KINDS = ["http:", "https:"];
  var LINK_PATTERN = /\[([^\]\n]{1,200})\]\(([^)\s]{1,2000})\)|((?:https?:\/\/|mailto:|tel:)[^\s<>"']+)/g;

  // Text with links: every piece of text is a text node; links are <a> built by hand.
  function appendRichText(parent, text) {
    text = String(text);
    var last = 0, match;
    LINK_PATTERN.lastIndex = 0;
    while ((match = LINK_PATTERN.exec(text)) !== null) {
      var label = match[1] || match[3];
      var target = match[2] || match[3];
      var trailing = "";
      if (match[3]) {
        var cut = /[.,;:!?)]+$/.exec(target);
        if (cut) { trailing = cut[0]; target = target.slice(0, -trailing.length); label = target; }
      }
      var href = safeUrl(target, LINK_KINDS);
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (href) {
        parent.appendChild(link(href, label));
      } else {
        parent.appendChild(document.createTextNode(match[0].slice(0, match[0].length - trailing.length)));
      }
      if (trailing) { parent.appendChild(document.createTextNode(trailing)); }
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }
  function link(href, label) {
    var a = el("a", { href: href }, label);
    if (/^https?:/.test(href)) {
      a.setAttribute("target", "_blank");
      a.setAttribute("rel", "noopener noreferrer");
      a.appendChild(el("span", { "class": "thc-sr" }, T.newTab));
    }
    return a;
  }

  // ------------------------------------------------------------------ storage (after opening only)
  var state = { opened: false, sessionId: null, transcript: [], open: false };
  function storage() {
    try { return window[STORAGE]; } catch (e) { return null; }
  }
  function load() {
    try {
      var raw = storage().getItem(STORE);
      return raw ? JSON.parse(raw) : null;
    } catch (e) { return null; }
  }
  function forget() {
    try { storage().removeItem(STORE); } catch (e) { /* nothing stored */ }
  }
  function save() {
    if (!state.opened) { return; }
    try {
      storage().setItem(STORE, JSON.stringify({
        sessionId: state.sessionId,
        transcript: state.transcript.slice(-MAX_KEPT),
        open: state.open
      }));
    } catch (e) { /* storage full or forbidden: the chat still works */ }
  }
  function newSessionId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // ------------------------------------------------------------------ UI
  var root, launcher, panel, log, form, input, typing, locationButton, notice, counter, announce;

  function frenchNumber(n) {
    return lang === "fr" ? String(n).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f") : String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  var warned = false;
  function updateCounter() {
    var length = input.value.length;
    counter.textContent = T.counter(frenchNumber(length), frenchNumber(MAX_LENGTH));
    var left = MAX_LENGTH - length;
    // Screen readers hear the count once when few characters are left, not at each key.
    if (left <= WARN_REMAINING && left > 0 && !warned) { warned = true; announce.textContent = T.remaining(frenchNumber(left)); }
    else if (left > WARN_REMAINING) { warned = false; announce.textContent = ""; }
  }

  function build() {
    var css = el("link", { rel: "stylesheet", href: BASE + "/widget/widget.css" });
    document.head.appendChild(css);

    root = el("div", { id: "thc-root", lang: lang });
    root.style.setProperty("--thc-brand", brand);
    root.style.setProperty("--thc-on-brand", onBrand);
    root.style.setProperty("--thc-ink", ink);

    launcher = el("button", {
      type: "button", "class": "thc-launcher", "aria-expanded": "false",
      "aria-controls": "thc-panel", "aria-label": T.open
    });
    launcher.appendChild(el("span", { "class": "thc-launcher-icon", "aria-hidden": "true" }, "💬"));
    launcher.appendChild(el("span", { "class": "thc-launcher-text" }, T.launcher));
    launcher.addEventListener("click", function () { open(true); });

    panel = el("section", { id: "thc-panel", "class": "thc-panel", role: "dialog",
      "aria-modal": "false", "aria-labelledby": "thc-title", hidden: "" });
    var header = el("div", { "class": "thc-header" });
    var logo = safeUrl(settings.logo, IMAGE_KINDS);
    if (logo) { header.appendChild(el("img", { "class": "thc-logo", src: logo, alt: "" })); }
    header.appendChild(el("h2", { id: "thc-title", "class": "thc-title" },
      settings.commune ? T.titleOf + settings.commune : T.title));
    var restart = el("button", { type: "button", "class": "thc-icon-button thc-restart", title: T.restart });
    restart.appendChild(el("span", { "aria-hidden": "true" }, "↻"));
    restart.appendChild(el("span", { "class": "thc-sr" }, T.restart));
    restart.addEventListener("click", restartConversation);
    var close = el("button", { type: "button", "class": "thc-icon-button thc-close", title: T.close });
    close.appendChild(el("span", { "aria-hidden": "true" }, "×"));
    close.appendChild(el("span", { "class": "thc-sr" }, T.close));
    close.addEventListener("click", function () { closePanel(true); });
    header.appendChild(restart);
    header.appendChild(close);

    log = el("div", { "class": "thc-log", role: "log", "aria-live": "polite",
      "aria-relevant": "additions", "aria-label": T.log, tabindex: "0" });
    typing = el("p", { "class": "thc-typing", role: "status", "aria-live": "polite" });
    notice = el("p", { "class": "thc-notice", role: "alert" });

    locationButton = el("button", { type: "button", "class": "thc-location", hidden: "" }, T.location);
    locationButton.addEventListener("click", shareLocation);

    form = el("form", { "class": "thc-form", novalidate: "" });
    var label = el("label", { "for": "thc-input", "class": "thc-label" }, T.label);
    input = el("input", { id: "thc-input", type: "text", autocomplete: "off", maxlength: String(MAX_LENGTH),
      placeholder: T.placeholder, "class": "thc-input", "aria-describedby": "thc-counter" });
    counter = el("p", { id: "thc-counter", "class": "thc-counter" });
    counter.style.margin = "0.25em 0 0";
    counter.style.fontSize = "0.85em";
    counter.style.textAlign = "right";
    announce = el("p", { "class": "thc-sr", "aria-live": "polite" });
    input.addEventListener("input", function () {
      updateCounter();
      if (input.value.length >= MAX_LENGTH) { showNotice(T.tooLong); }
      else if (notice.textContent === T.tooLong) { showNotice(""); }
    });
    var send = el("button", { type: "submit", "class": "thc-send" }, T.send);
    var row = el("div", { "class": "thc-row" });
    row.appendChild(input);
    row.appendChild(send);
    form.appendChild(label);
    form.appendChild(row);
    form.appendChild(counter);
    form.appendChild(announce);
    updateCounter();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value.trim();
      if (!text) { showNotice(T.empty); input.focus(); return; }
      input.value = "";
      updateCounter();
      sendMessage(text, text);
    });

    var privacy = el("p", { "class": "thc-privacy" });
    privacy.appendChild(document.createTextNode(
      (settings.commune ? T.privacy.replace("la mairie", "la mairie de " + settings.commune) : T.privacy) + " "));
    privacy.appendChild(el("a", { href: settings.privacyUrl }, T.privacyLink));

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(notice);
    panel.appendChild(locationButton);
    panel.appendChild(form);
    panel.appendChild(privacy);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") { event.preventDefault(); closePanel(true); }
    });

    root.appendChild(panel);
    root.appendChild(launcher);
    document.body.appendChild(root);
  }

  function showNotice(text) {
    notice.textContent = text || "";
  }

  function open(byUser) {
    if (!state.opened) {
      state.opened = true;
      var stored = load();
      if (stored && stored.sessionId) {
        state.sessionId = stored.sessionId;
        state.transcript = Array.isArray(stored.transcript) ? stored.transcript : [];
        state.transcript.forEach(function (entry) { render(entry, false); });
        restoreChoices();
      } else {
        state.sessionId = newSessionId();
        welcome();
      }
      connect();
    }
    state.open = true;
    save();
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    root.classList.add("thc-is-open");
    scrollDown();
    if (byUser) { input.focus(); }
  }

  function closePanel(byUser) {
    state.open = false;
    save();
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    root.classList.remove("thc-is-open");
    if (byUser) { launcher.focus(); }
  }

  function welcome() {
    record({ from: "bot", text: settings.welcome });
  }

  function restartConversation() {
    state.sessionId = newSessionId();
    state.transcript = [];
    while (log.firstChild) { log.removeChild(log.firstChild); }
    hideLocation();
    setTyping(false);
    showNotice("");
    welcome();
    save();
    transport.session();
    input.focus();
  }

  // ------------------------------------------------------------------ messages
  // A transcript entry: {from: "bot"|"user", text?, buttons?, image?, file?, location?}
  function record(entry) {
    state.transcript.push(entry);
    if (state.transcript.length > MAX_KEPT) { state.transcript = state.transcript.slice(-MAX_KEPT); }
    save();
    render(entry, true);
  }

  function render(entry, live) {
    var item = el("div", { "class": "thc-msg thc-" + (entry.from === "user" ? "user" : "bot") });
    item.appendChild(el("span", { "class": "thc-sr" }, entry.from === "user" ? T.you : T.bot));
    if (entry.text) {
      var bubble = el("p", { "class": "thc-text" });
      appendRichText(bubble, entry.text);
      item.appendChild(bubble);
    }
    var image = entry.image && safeUrl(entry.image, IMAGE_KINDS);
    if (image) {
      item.appendChild(el("img", { "class": "thc-image", src: image, alt: entry.imageAlt || T.image }));
    }
    var file = entry.file && safeUrl(entry.file.url, LINK_KINDS);
    if (file) {
      var a = el("a", { "class": "thc-file", href: file }, entry.file.title || T.file);
      if (/\.ics(\?|$)/i.test(file)) { a.setAttribute("download", ""); }
      var p = el("p", { "class": "thc-text" });
      p.appendChild(a);
      item.appendChild(p);
    }
    var links = (entry.links || []).filter(function (l) { return safeUrl(l.url, LINK_KINDS); });
    links.forEach(function (l) {
      var p = el("p", { "class": "thc-text" });
      p.appendChild(link(safeUrl(l.url, LINK_KINDS), l.title || l.url));
      item.appendChild(p);
    });
    log.appendChild(item);
    if (live && entry.from === "bot" && entry.buttons && entry.buttons.length) {
      renderChoices(entry.buttons);
    }
    if (live && entry.askLocation) { offerLocation(); }
    scrollDown();
  }

  function isLocationRequest(button) {
    return typeof button.payload === "string" && button.payload.indexOf("/share_location") === 0;
  }

  function renderChoices(buttons) {
    clearChoices();
    var group = el("div", { "class": "thc-choices", role: "group", "aria-label": T.choices });
    buttons.forEach(function (button) {
      if (isLocationRequest(button)) { offerLocation(); return; }
      var b = el("button", { type: "button", "class": "thc-choice" }, button.title || button.payload);
      b.addEventListener("click", function () {
        clearChoices();
        sendMessage(String(button.payload || button.title), String(button.title || button.payload));
        input.focus();
      });
      group.appendChild(b);
    });
    if (group.childNodes.length) { log.appendChild(group); }
  }

  // After a reload, the choices of the last question are offered again.
  function restoreChoices() {
    var last = state.transcript[state.transcript.length - 1];
    if (last && last.from === "bot" && last.buttons && last.buttons.length) { renderChoices(last.buttons); }
  }

  function clearChoices() {
    Array.prototype.forEach.call(log.querySelectorAll(".thc-choices"), function (g) { g.parentNode.removeChild(g); });
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  var typingTimer = null;
  function setTyping(on) {
    clearTimeout(typingTimer);
    typing.textContent = on ? T.typing : "";
    root.classList.toggle("thc-is-typing", !!on);
    if (on) { typingTimer = setTimeout(function () { setTyping(false); }, 20000); }
  }

  function sendMessage(payload, shown) {
    showNotice("");
    clearChoices();
    hideLocation();
    record({ from: "user", text: shown });
    setTyping(true);
    transport.send(payload);
  }

  // Bot messages from socket.io (bot_uttered) or REST, normalised to transcript entries.
  function receive(message) {
    if (!message || typeof message !== "object") { return; }
    var custom = message.custom && typeof message.custom === "object" ? message.custom : message;
    var entry = { from: "bot" };
    if (typeof message.text === "string") { entry.text = message.text; }
    var buttons = message.quick_replies || message.buttons;
    if (Array.isArray(buttons) && buttons.length) {
      entry.buttons = [];
      entry.links = [];
      buttons.forEach(function (b) {
        if (!b || typeof b !== "object") { return; }
        // Link buttons: socket.io keeps only title and payload, so a URL payload is a link.
        if (b.url || b.type === "web_url" || /^https?:\/\//i.test(String(b.payload || ""))) {
          entry.links.push({ url: b.url || b.payload, title: b.title });
        }
        else { entry.buttons.push({ title: String(b.title || ""), payload: String(b.payload || b.title || "") }); }
      });
    }
    if (typeof message.image === "string") { entry.image = message.image; }
    var attachment = message.attachment;
    if (typeof attachment === "string") { entry.file = { url: attachment }; }
    else if (attachment && typeof attachment === "object") {
      var p = attachment.payload || attachment;
      if (attachment.type === "image") { entry.image = p.src || p.url; entry.imageAlt = p.title; }
      else if (attachment.type === "template" && p.elements) {
        entry.text = (entry.text ? entry.text + "\n" : "") + [].concat(p.elements).map(function (e) {
          return [e.title, e.subtitle].filter(Boolean).join(" — ");
        }).join("\n");
      }
      else if (p.url || p.src) { entry.file = { url: p.url || p.src, title: p.title || p.name }; }
    }
    // Location request: custom {"data": {"ask_location": true}} in the response (socket.io
    // emits the data itself; REST wraps it in "custom"), or a button "/share_location...".
    if (custom.ask_location === true || (custom.data && custom.data.ask_location === true)) {
      entry.askLocation = true;
    }
    if (custom.erase_history === true || (custom.data && custom.data.erase_history === true)) {
      eraseHistory();
    }
    if (typeof custom.text === "string" && !entry.text) { entry.text = custom.text; }
    var content = entry.text || entry.image || entry.file ||
      (entry.buttons && entry.buttons.length) || (entry.links && entry.links.length);
    if (!content) {
      if (entry.askLocation) { offerLocation(); }
      return;
    }
    setTyping(false);
    var live = { from: "bot" };
    Object.keys(entry).forEach(function (k) { if (k !== "askLocation") { live[k] = entry[k]; } });
    state.transcript.push(live);
    // Every tab of the conversation receives the bot's messages; only the visible one writes
    // the shared transcript, the others reload it when they become visible.
    if (document.visibilityState !== "hidden") { save(); }
    render(entry, true);
  }

  // The assistant confirmed the erasure of the conversation: the browser forgets its copy and
  // the next message starts a new conversation. What is on screen stays until the page closes.
  function eraseHistory() {
    state.transcript = [];
    forget();
    state.sessionId = newSessionId();
    transport.session();
  }

  // ------------------------------------------------------------------ location
  function offerLocation() { locationButton.hidden = false; }
  function hideLocation() { locationButton.hidden = true; }
  function shareLocation() {
    if (!navigator.geolocation) { showNotice(T.locationUnavailable); input.focus(); return; }
    showNotice(T.locating);
    navigator.geolocation.getCurrentPosition(function (position) {
      showNotice("");
      var lat = Math.round(position.coords.latitude * 1e6) / 1e6;
      var lon = Math.round(position.coords.longitude * 1e6) / 1e6;
      sendMessage('/inform{"incident_latitude": ' + lat + ', "incident_longitude": ' + lon + "}", T.locationSent);
      input.focus();
    }, function () {
      showNotice(T.locationDenied);
      input.focus();
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }

  // ------------------------------------------------------------------ transports
  var transport = { send: function () {}, session: function () {} };

  function useRest() {
    transport = {
      session: function () {},
      send: function (payload) {
        fetch(settings.server + "/webhooks/rest/webhook", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ sender: state.sessionId, message: payload })
        }).then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        }).then(function (messages) {
          (messages || []).forEach(receive);
          setTyping(false);
        }).catch(function () { setTyping(false); showNotice(T.offline); });
      }
    };
  }

  function useSocket() {
    var socket = window.io(settings.server, {
      path: "/socket.io", transports: ["websocket", "polling"], tryAllTransports: true,
      reconnectionAttempts: 10
    });
    var failures = 0, confirmed = false;
    var queue = [];
    function flush() { while (queue.length) { emit(queue.shift()); } }
    function emit(payload) {
      socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
    }
    // A (re)connection clears only the "offline" notice, never one about the citizen's input.
    socket.on("connect", function () {
      if (notice.textContent === T.offline) { showNotice(""); }
      transport.session();
    });
    socket.on("session_confirm", function (id) {
      confirmed = true;
      if (typeof id === "string" && id && id !== state.sessionId) { state.sessionId = id; save(); }
      flush();
    });
    socket.on("bot_uttered", receive);
    socket.on("connect_error", function () {
      failures += 1;
      if (failures >= 3 && !confirmed) {
        socket.close();
        useRest();
        var pending = queue.splice(0);
        pending.forEach(function (p) { transport.send(p); });
      }
    });
    transport = {
      session: function () {
        confirmed = false;
        socket.emit("session_request", { session_id: state.sessionId });
      },
      send: function (payload) {
        if (socket.connected && confirmed) { emit(payload); } else { queue.push(payload); }
      }
    };
  }

  function connect() {
    if (settings.transport === "rest") { useRest(); return; }
    if (window.io && window.io.Manager) { useSocket(); return; }
    transport = { session: function () {}, send: function (p) { pendingBeforeLoad.push(p); } };
    var pendingBeforeLoad = [];
    var s = el("script", { src: BASE + "/widget/vendor/socket.io.min.js" });
    s.onload = function () {
      useSocket();
      pendingBeforeLoad.forEach(function (p) { transport.send(p); });
    };
    s.onerror = function () {
      useRest();
      pendingBeforeLoad.forEach(function (p) { transport.send(p); });
    };
    document.head.appendChild(s);
  }

  function resync() {
    if (!state.opened || document.visibilityState === "hidden") { return; }
    var stored = load();
    if (!stored || !stored.sessionId) { return; }
    var changed = stored.sessionId !== state.sessionId;
    state.sessionId = stored.sessionId;
    state.transcript = Array.isArray(stored.transcript) ? stored.transcript : [];
    while (log.firstChild) { log.removeChild(log.firstChild); }
    state.transcript.forEach(function (entry) { render(entry, false); });
    restoreChoices();
    scrollDown();
    if (changed) { transport.session(); }
  }

  // ------------------------------------------------------------------ start
  function start() {
    build();
    document.addEventListener("visibilitychange", resync);
    // Re-open by itself only if the citizen had opened the chat before (storage exists).
    var stored = load();
    if (stored && stored.open) { open(false); }
    window.TownhallChat = { open: function () { open(true); }, close: function () { closePanel(true); } };
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); }
  else { start(); }
})();

// Jingzhun's pages: HTMX swaps refusals (4xx) into the page like any answer, so a refused step
// shows its reason where the form is; a 401 sends the browser to the sign-in page (what a form held
// kept in the tab, to be filled in again: see "A session that ended" below).
document.addEventListener("DOMContentLoaded", function () {
  if (window.htmx) {
    htmx.config.responseHandling = [
      {code: "204", swap: false},
      {code: "[23]..", swap: true},
      {code: "401", swap: false},
      {code: "4..", swap: true, error: false},
      {code: "5..", swap: true, error: true},
    ];
  }
  // A long choice (a village's pairing cadres): the text typed above it keeps the options that hold it.
  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.closest("[data-filter-select]");
    if (!box) return;
    var wrap = box.closest(".select-filtered"), select = wrap.querySelector("select");
    var typed = box.value.trim().toLowerCase(), shown = 0;
    select.querySelectorAll("option").forEach(function (o) {
      var match = !typed || o.textContent.toLowerCase().indexOf(typed) >= 0;
      o.hidden = !(match || !o.value || o.selected);      // the one chosen stays
      if (match && o.value && !o.disabled) shown++;
    });
    wrap.querySelector("[data-filter-none]").hidden = shown > 0 || !typed;
  });
  // A member's ID number as it is typed (the household's registration page): the sex and birth date it
  // holds said under it, once it is a whole, valid number (its check digit right); never typed again.
  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.closest("[data-id-reads]");
    if (!box) return;
    var out = box.closest("label").nextElementSibling, n = box.value.replace(/\s/g, "").toUpperCase();
    var weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], sum = 0, said = "";
    if (/^\d{17}[\dX]$/.test(n)) {
      for (var i = 0; i < 17; i++) sum += weights[i] * +n[i];
      var born = n.slice(6, 10) + "-" + n.slice(10, 12) + "-" + n.slice(12, 14), day = new Date(born + "T00:00:00Z");
      if ("10X98765432"[sum % 11] === n[17] && !isNaN(day) && day.toISOString().slice(0, 10) === born) {
        said = out.dataset.says.replace("{sex}", +n[16] % 2 ? out.dataset.male : out.dataset.female).replace("{born}", born);
      }
    }
    out.textContent = said;
  });
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll(box.dataset.selectAll).forEach(function (b) { b.checked = box.checked; });
    });
  });
  // A long form (a registry's import): sent once; its button says it is working until the answer comes.
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.dataset.idle = b.dataset.idle || b.textContent;
        b.disabled = true;
        b.textContent = form.dataset.busy;
      });
    });
  });
  // Back to such a page (the browser's back/forward cache): its button works again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-busy] button[data-idle]").forEach(function (b) {
      b.disabled = false;
      b.textContent = b.dataset.idle;
    });
  });
  // A village's list or sheet answered: the answer brought into view (on a phone the form above it is
  // a long page), each household done taken out of the form (its box unticked, its fields closed: not
  // sent twice), each refused one marked where it is in the form. A list's answer names its households
  // in groups (each reason once; the done ones by what was decided): a done one's line in the form says
  // the group's decision and stage.
  function saidOf(answer) {
    var cell = answer.querySelector("td:last-child");
    if (cell) return cell;
    var group = answer.closest(".list-group"), said = group && group.querySelector(".said");
    if (!said) return null;
    var line = document.createElement("span"), tag = document.createElement("span");
    tag.className = "tag ok";
    tag.textContent = group.dataset.label || "";
    line.appendChild(tag);
    line.appendChild(document.createTextNode(" " + said.textContent.trim()));
    return line;
  }
  // A form's answer given again (its first lost on a weak signal, sent again by itself) carries the case's
  // version as it was then: never put it back over a newer one a form saved since has given the page (the
  // next step would be refused as changed meanwhile).
  document.body.addEventListener("htmx:oobBeforeSwap", function (e) {
    var target = e.detail.target, fragment = e.detail.fragment;
    if (!target || target.id !== "step-version" || !fragment || !fragment.querySelector) return;
    var incoming = fragment.querySelector("#step-version");
    if (incoming && Number(incoming.value) < Number(target.value)) e.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    var form = target && {"bulk-result": "bulk-form", "sheet-result": "sheet-form"}[target.id];
    if (!form || !(form = document.getElementById(form))) return;
    target.querySelectorAll("[data-case][data-result]").forEach(function (answer) {
      var row = form.querySelector('tr[data-case="' + answer.dataset.case + '"]');
      if (!row) return;
      var done = answer.dataset.result === "done" || answer.dataset.result === "written";
      row.classList.toggle("row-done", done);
      row.classList.toggle("row-refused", answer.dataset.result === "refused");
      var fold = row.querySelector("details.fold");      // a sheet's household on a phone: a refused one opened
      if (fold && answer.dataset.result === "refused") fold.open = true;
      if (!done) return;
      row.querySelectorAll("input, select").forEach(function (field) { field.checked = false; field.disabled = true; });
      row.classList.remove("typed");
      if (fold) fold.open = false;
      var needs = row.querySelector(".needs");
      var result = saidOf(answer);
      if (needs && result) needs.innerHTML = result.innerHTML;
      var hint = row.querySelector(".fold-hint");        // a sheet's household line says it is saved, not lacking
      if (hint && result) {
        var saved = document.createElement("span");
        saved.className = "tag ok saved";
        saved.textContent = result.textContent.trim();
        var held = hint.querySelector(".tag.bad, .tag.ok");
        if (held) held.replaceWith(saved); else hint.insertBefore(saved, hint.firstChild);
        var act = hint.querySelector(".fold-act");
        if (act && act.dataset.see) act.textContent = act.dataset.see;
      }
    });
    form.querySelectorAll("[data-select-all]").forEach(function (all) { all.checked = false; });   // its count is past
    var summary = target.querySelector("[role=status]");
    if (summary) summary.scrollIntoView({block: "start"});
  });
  // A form is sent once at a time: a second tap while the first is on its way (a slow phone link) is
  // dropped, where it was refused as "moved on" over the first one's success, or saved a piece of
  // evidence or an objection twice. Answered with success, a form that made a record is emptied
  // (data-reset), one that changed values takes them as its values from now on (data-sync-was: the
  // same save again changes nothing), one whose work is done stays spent (data-once) until the page
  // is opened again.
  // Only a form's own request counts: the "what it needs" rows inside a village's list form load on
  // their own. A refusal (4xx, swapped in like an answer) is no success: the form keeps what was typed.
  function formOf(e) {
    var elt = e.detail && e.detail.elt;
    return elt && elt.tagName === "FORM" ? elt : null;
  }
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    var form = formOf(e);
    if (!form) return;
    if (form.dataset.sending) { e.preventDefault(); return; }
    form.dataset.sending = "1";
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
  });
  // A form's request carries a key of its own (Idempotency-Key): when the answer is lost on a weak
  // signal, the form sent again carries the same key and the server gives the first answer again
  // instead of saving the evidence twice or refusing the step as moved on. Once an answer has come,
  // the next sending is a new act with a new key. No answer at all: said at the form, what was typed
  // kept, the key kept for the sending again.
  function newKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  document.body.addEventListener("htmx:configRequest", function (e) {
    var form = formOf(e);
    if (!form || e.detail.verb === "get") return;
    form.dataset.key = form.dataset.key || newKey();
    e.detail.headers["Idempotency-Key"] = form.dataset.key;
  });
  // A form changed after a sending whose answer was lost is another request: a new key (the server would
  // refuse the old key with another content). Unchanged, sent again, it keeps its key.
  ["input", "change"].forEach(function (kind) {
    document.body.addEventListener(kind, function (e) {
      var form = e.target && e.target.form;
      if (form && form.dataset.key && !form.dataset.sending) delete form.dataset.key;
      if (form) waiting.delete(form);     // being changed: sent when its cadre sends it, not half typed
    });
  });
  // A form whose sending got no answer is sent again by itself, with its key, once the signal is back
  // (the browser says it is online again) and then after a growing pause while the page stays open
  // (4 s, doubled up to a minute: a weak signal may leave the browser "online"), unless it was changed
  // meanwhile; the cadre may still send it themselves. The server's first answer is given again if it
  // had saved it, so nothing is saved twice.
  var waiting = new Set(), retryTimer = null, pause = 4000;
  function sendWaiting() {
    retryTimer = null;
    if (!navigator.onLine) return;       // sent on the "online" event
    waiting.forEach(function (form) {
      if (!document.body.contains(form)) { waiting.delete(form); return; }
      if (!form.dataset.sending) form.requestSubmit();
    });
  }
  function sendLater() {
    if (retryTimer || !waiting.size) return;
    retryTimer = setTimeout(sendWaiting, pause);
    pause = Math.min(pause * 2, 60000);
  }
  window.addEventListener("online", function () {
    clearTimeout(retryTimer);
    pause = 4000;
    sendWaiting();
  });
  function lostNote(form, lost) {
    var said = form.querySelector(":scope > .lost");
    if (said && !lost) said.remove();
    var note = document.getElementById("lost-note");
    if (said || !lost || !note) return;
    said = note.content.firstElementChild.cloneNode(true);
    var heading = form.firstElementChild && /^H[1-6]$/.test(form.firstElementChild.tagName) ? form.firstElementChild : null;
    form.insertBefore(said, heading ? heading.nextSibling : form.firstChild);
    said.scrollIntoView({block: "nearest"});
  }
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var form = formOf(e);
    if (!form || !form.dataset.sending) return;
    delete form.dataset.sending;
    var status = e.detail.xhr ? e.detail.xhr.status : 0;
    var ok = status >= 200 && status < 300;
    // an answer came: the next sending is a new act, unless the first sending is still being answered
    var running = status === 409 && /data-code="request\.still_running"/.test(e.detail.xhr.responseText || "");
    if (status && !running) delete form.dataset.key;
    lostNote(form, !status);
    if (!status || running) { waiting.add(form); sendLater(); }
    else { waiting.delete(form); if (!waiting.size) pause = 4000; }
    form.querySelectorAll("button").forEach(function (b) { b.disabled = ok && form.hasAttribute("data-once"); });
    if (!ok) return;
    if (form.hasAttribute("data-reset")) form.reset();
    if (form.hasAttribute("data-sync-was")) {
      form.querySelectorAll("input[name^=was_]").forEach(function (was) {
        var field = form.elements["m_" + was.name.slice(4)];
        if (field && field.type !== "file") was.value = field.value;
      });
      var account = form.elements["m_bank_account"];     // shown by its last digits only: asked afresh
      if (account) account.value = "";
    }
  });
  // My work: each case says what it needs once loaded; "only those I can do now" hides the others.
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var target = e.detail.target;
    if (!target || !target.classList.contains("needs")) return;
    var said = target.querySelector("[data-ready]");
    var card = target.closest("li[data-case]");
    if (said && card) card.dataset.ready = said.dataset.ready;
  });
  // A session that ended while a form was being filled in (2 idle hours on a phone): its answer is a
  // 401 that sends the browser to the sign-in page. What the form held is kept first, in this tab's
  // sessionStorage alone (never on the server, never a file, a password or a hidden field), and
  // filled in again when the same person is back on the same page within the hour; not sent: they
  // check it and send it themselves.
  var UNSENT = "jz-unsent", KEPT_MS = 3600 * 1000;
  function formKey(form) {
    var path = form.getAttribute("hx-post") || form.getAttribute("action") || "";
    var kind = path + "|" + (form.id || "") + "|" + (form.dataset.type || "");
    var same = Array.prototype.filter.call(document.forms, function (f) {
      return (f.getAttribute("hx-post") || f.getAttribute("action") || "") + "|" + (f.id || "") + "|" +
        (f.dataset.type || "") === kind;
    });
    return kind + "|" + same.indexOf(form);
  }
  function typed(field) {
    var type = (field.type || "").toLowerCase();
    return field.name && !field.disabled && ["hidden", "password", "file", "submit", "button", "reset", "image"]
      .indexOf(type) < 0;
  }
  document.body.addEventListener("htmx:beforeOnLoad", function (e) {
    var form = formOf(e), xhr = e.detail.xhr;
    if (!form || !xhr || xhr.status !== 401 || !document.body.dataset.reader) return;
    var fields = [], file = false;
    Array.prototype.forEach.call(form.elements, function (f) {
      if (f.type === "file" && f.files && f.files.length) file = true;
      if (typed(f)) fields.push([f.name, f.value, f.checked]);
    });
    try {
      sessionStorage.setItem(UNSENT, JSON.stringify({page: location.pathname + location.search, at: Date.now(),
        reader: document.body.dataset.reader, form: formKey(form), fields: fields, file: file}));
    } catch (err) { /* storage refused: the sign-in page says nothing of it */ }
  });
  var unsent = null;
  try { unsent = JSON.parse(sessionStorage.getItem(UNSENT) || "null"); } catch (err) { unsent = null; }
  var keptHere = document.getElementById("kept-here");       // the sign-in page, sent there by that 401
  var next = document.querySelector("form[action='/signin'] input[name=next]");
  if (unsent && keptHere && next && next.value === unsent.page && Date.now() - unsent.at < KEPT_MS) keptHere.hidden = false;
  if (unsent && document.body.dataset.reader) {
    var mine = unsent.reader === document.body.dataset.reader && Date.now() - unsent.at < KEPT_MS;
    if (!mine) sessionStorage.removeItem(UNSENT);      // somebody else signed in here, or too old: dropped
    else if (unsent.page === location.pathname + location.search) {
      sessionStorage.removeItem(UNSENT);
      restore(unsent);
    }
  }
  function restore(kept) {
    var form = Array.prototype.find.call(document.forms, function (f) { return formKey(f) === kept.form; });
    var note = document.getElementById("restored-note");
    if (!form || !note) return;
    var seen = {};
    kept.fields.forEach(function (item) {
      var name = item[0], value = item[1];
      var same = Array.prototype.filter.call(form.elements, function (f) { return f.name === name && typed(f); });
      if (same.length && (same[0].type === "checkbox" || same[0].type === "radio")) {
        same.forEach(function (f) { if (f.value === value) f.checked = item[2]; });
        return;
      }
      var at = seen[name] = (seen[name] || 0) + 1;        // the n-th field of that name, in order
      if (same[at - 1]) same[at - 1].value = value;
      var fold = value && same[at - 1] && same[at - 1].closest("tr") && same[at - 1].closest("tr").querySelector("details.fold");
      if (fold) fold.open = true;                            // a sheet's household given back: shown open
    });
    for (var open = form.closest("details"); open; open = open.parentElement && open.parentElement.closest("details")) {
      open.open = true;
    }
    var said = note.content.firstElementChild.cloneNode(true);
    said.querySelector(".file-again").hidden = !kept.file;
    var heading = form.firstElementChild && /^H[1-6]$/.test(form.firstElementChild.tagName) ? form.firstElementChild : null;
    form.insertBefore(said, heading ? heading.nextSibling : form.firstChild);     // under the form's title
    form.scrollIntoView({block: "start"});
  }
  document.querySelectorAll("input[data-toggle-class]").forEach(function (box) {
    var list = document.querySelector(box.dataset.target);
    box.addEventListener("change", function () { list.classList.toggle(box.dataset.toggleClass, box.checked); });
  });
  // Verifiers who together are the last who may do a later step (data-kept-one-of: each such group and
  // what to say): once all but one of a group are ticked, the last one cannot be (the step would refuse it).
  document.addEventListener("change", function (e) {
    var set = e.target.closest && e.target.closest("fieldset[data-kept-one-of]");
    if (!set) return;
    var boxes = set.querySelectorAll("input[type=checkbox]"), said = [], held = {};
    JSON.parse(set.dataset.keptOneOf).forEach(function (group) {
      var left = Array.prototype.filter.call(boxes, function (b) {
        return group.persons.indexOf(b.value) >= 0 && !b.checked;
      });
      var kept = left.length === 1 && left[0].disabled && !left[0].dataset.heldOneOf;   // kept already
      if (left.length === 1 && !kept) { held[left[0].value] = true; said.push(group.say); }
    });
    boxes.forEach(function (b) {
      if (held[b.value]) { b.disabled = true; b.dataset.heldOneOf = "1"; }
      else if (b.dataset.heldOneOf) { b.disabled = false; delete b.dataset.heldOneOf; }
    });
    var line = set.querySelector("[data-one-of-said]");
    line.textContent = said.join(" ");
    line.hidden = !said.length;
  });
  // What a waiting case needs, each condition folded to two lines (app.css): a tap, Enter or Space unfolds or
  // folds it (the lists come by HTMX after the page: one listener for them all). A link in it stays a link.
  function unfold(e) {
    var item = e.target.closest && e.target.closest(".needs-list li.folded");
    if (!item || e.target.closest("a")) return;
    if (e.type === "keydown" && e.key !== "Enter" && e.key !== " ") return;
    if (e.type === "keydown") e.preventDefault();
    item.setAttribute("aria-expanded", item.getAttribute("aria-expanded") === "true" ? "false" : "true");
  }
  document.addEventListener("click", unfold);
  document.addEventListener("keydown", unfold);
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  // A sheet's field typed in and not saved (a saved row's are closed).
  function unsaved(f) {
    if (f.disabled) return false;
    if (f.tagName === "SELECT") {
      var first = Array.prototype.findIndex.call(f.options, function (o) { return o.defaultSelected; });
      return f.selectedIndex !== Math.max(first, 0);
    }
    return f.value !== f.defaultValue;
  }
  var SHEET_FIELDS = "input[name^='f_'], select[name^='f_']";
  // A sheet's page turned while what was typed on it is not saved: asked first.
  document.querySelectorAll("a[data-unsaved]").forEach(function (link) {
    link.addEventListener("click", function (e) {
      var form = document.getElementById("sheet-form");
      var typed = form && Array.prototype.some.call(form.querySelectorAll(SHEET_FIELDS), unsaved);
      if (typed && !window.confirm(link.dataset.unsaved)) e.preventDefault();
    });
  });
  // A household of the sheet typed in: its line says so once folded (on a phone), until it is saved.
  var sheet = document.getElementById("sheet-form");
  if (sheet) {
    ["input", "change"].forEach(function (kind) {
      sheet.addEventListener(kind, function (e) {
        var row = e.target.closest && e.target.closest("tr[data-case]");
        if (row) row.classList.toggle("typed", Array.prototype.some.call(row.querySelectorAll(SHEET_FIELDS), unsaved));
      });
    });
  }
  // A link to a folded part of the page (the case page's 登记走访 at its top, the form further down)
  // opens it where it is: the page keeps one copy of the form.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1)), target = id && document.getElementById(id);
    if (target && target.tagName === "DETAILS") target.open = true;
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
  document.body.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest('a[href^="#"]');
    if (link && link.getAttribute("href") === window.location.hash) openTarget();
  });
});

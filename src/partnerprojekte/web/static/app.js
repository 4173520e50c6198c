/* Partnerprojekte der Ruhr-Konferenz – progressive enhancement only: every page works without this file.
 *
 * - focuses the error summary after a failed submission;
 * - the print button of the report;
 * - the submission form: rows added and removed in place, and the live criteria check, which sends the
 *   form as a §5 document to POST /api/v1/check. The document is built by the same rules as
 *   web/pages/proposal_form.py (ProposalForm.to_document); keep the two in step.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  var LISTS = {
    "partners": ["name", "kind", "location", "role"],
    "handlungsfelder": ["key", "rationale"],
    "financing.sources": ["kind", "name", "amount_eur", "secured"]
  };
  var ROW_NAME = /^(partners|handlungsfelder|financing\.sources)\[(\d{1,3})\]\.(\w+)$/;
  var PATH_INDEX = /^(partners|handlungsfelder|financing\.sources)\[(\d+)\](?:\.(\w+))?/;
  var FIELDS = [
    "title", "summary", "submitter.name", "submitter.kind", "submitter.location",
    "submitter.contact.name", "submitter.contact.email", "themenforum", "effect_area.places",
    "effect_area.scope", "cooperation_value", "financing.total_cost_eur", "period.start", "period.end",
    "ressort"
  ];
  var VERDICTS = {
    met: ["✓", "erfüllt"],
    needs_review: ["?", "zu prüfen"],
    not_met: ["✗", "nicht erfüllt"]
  };
  var DELAY_MS = 600;

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  // --- the document of the form (mirrors ProposalForm.to_document) -------------------------------

  function amountText(raw) {
    var text = raw.replace(/€/g, "").replace(/\u00a0/g, "").replace(/ /g, "").trim();
    if (text.indexOf(",") >= 0) {
      return text.replace(/\./g, "").replace(/,/g, ".");
    }
    if (/^\d{1,3}(?:\.\d{3})+$/.test(text)) {
      return text.replace(/\./g, "");
    }
    return text;
  }

  function splitPlaces(text) {
    return text.split(/[\n;,]/).map(function (p) { return p.trim(); }).filter(Boolean);
  }

  function formValues(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.type === "submit" || el.type === "button") {
        return;
      }
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) {
        return;
      }
      values[el.name] = el.value;
    });
    return values;
  }

  function rowIndices(values, listName) {
    var found = {};
    Object.keys(values).forEach(function (name) {
      var match = ROW_NAME.exec(name);
      if (match && match[1] === listName) {
        found[Number(match[2])] = true;
      }
    });
    return Object.keys(found).map(Number).sort(function (a, b) { return a - b; });
  }

  function rows(values, listName, rowMap) {
    var entries = [];
    var origins = [];
    rowIndices(values, listName).forEach(function (index) {
      var entry = {};
      LISTS[listName].forEach(function (key) {
        if (key === "secured") {
          return;
        }
        var raw = (values[listName + "[" + index + "]." + key] || "").trim();
        if (raw) {
          entry[key] = key === "amount_eur" ? amountText(raw) : raw;
        }
      });
      if (Object.keys(entry).length === 0) {
        return;
      }
      if (LISTS[listName].indexOf("secured") >= 0) {
        entry.secured = values[listName + "[" + index + "].secured"] === "true";
      }
      entries.push(entry);
      origins.push(index);
    });
    rowMap[listName] = origins;
    return entries;
  }

  function buildDocument(form) {
    var values = formValues(form);
    var rowMap = {};
    var text = function (name) { return (values[name] || "").trim(); };
    var doc = {};
    ["title", "summary"].forEach(function (name) {
      if (text(name)) { doc[name] = text(name); }
    });
    var contact = {};
    ["name", "email"].forEach(function (k) {
      if (text("submitter.contact." + k)) { contact[k] = text("submitter.contact." + k); }
    });
    var submitter = {};
    ["name", "kind", "location"].forEach(function (k) {
      if (text("submitter." + k)) { submitter[k] = text("submitter." + k); }
    });
    submitter.contact = contact;
    doc.submitter = submitter;
    doc.partners = rows(values, "partners", rowMap);
    doc.handlungsfelder = rows(values, "handlungsfelder", rowMap);
    if (text("themenforum")) {
      var forum = text("themenforum");
      doc.themenforum = /^\d{1,3}$/.test(forum) ? Number(forum) : forum;
    }
    var area = { places: splitPlaces(values["effect_area.places"] || "") };
    if (text("effect_area.scope")) { area.scope = text("effect_area.scope"); }
    doc.effect_area = area;
    if (text("cooperation_value")) { doc.cooperation_value = text("cooperation_value"); }
    var sources = rows(values, "financing.sources", rowMap);
    if (text("financing.total_cost_eur") || sources.length) {
      var financing = { sources: sources };
      if (text("financing.total_cost_eur")) {
        financing.total_cost_eur = amountText(text("financing.total_cost_eur"));
      }
      doc.financing = financing;
    }
    var period = {};
    ["start", "end"].forEach(function (k) {
      if (text("period." + k)) { period[k] = text("period." + k); }
    });
    if (Object.keys(period).length) { doc.period = period; }
    if (text("ressort")) { doc.ressort = text("ressort"); }
    return { doc: doc, rowMap: rowMap };
  }

  function inputName(path, rowMap) {
    var match = PATH_INDEX.exec(path);
    if (match) {
      var listName = match[1];
      var index = Number(match[2]);
      var origins = rowMap[listName] || [];
      var row = index < origins.length ? origins[index] : index;
      var key = LISTS[listName].indexOf(match[3]) >= 0 ? match[3] : LISTS[listName][0];
      return listName + "[" + row + "]." + key;
    }
    if (path.indexOf("effect_area.places") === 0) { return "effect_area.places"; }
    if (path === "financing" || path === "financing.sources") { return "financing.total_cost_eur"; }
    if (path === "period") { return "period.start"; }
    if (path === "submitter" || path === "submitter.contact") { return path + ".name"; }
    return FIELDS.indexOf(path) >= 0 ? path : null;
  }

  function fieldId(name) {
    return "f-" + name.replace(/[\[\].]+/g, "-").replace(/^-+|-+$/g, "");
  }

  function fieldLabel(form, name) {
    var input = form.querySelector("#" + CSS.escape(fieldId(name)));
    if (!input) { return name; }
    var label = form.querySelector('label[for="' + input.id + '"]');
    var text = label ? label.textContent.replace("(Pflichtfeld)", "").trim() : name;
    var row = input.closest("fieldset.row");
    if (row) {
      var legend = row.querySelector("legend");
      if (legend) { text = legend.textContent.trim().replace(/\s+/g, " ") + " – " + text; }
    }
    return text;
  }

  // --- the live check ----------------------------------------------------------------------------

  function verdictNode(value) {
    var known = VERDICTS[value] || ["", value];
    var span = document.createElement("span");
    span.className = "verdict verdict-" + value;
    var icon = document.createElement("span");
    icon.className = "verdict-icon";
    icon.setAttribute("aria-hidden", "true");
    icon.textContent = known[0];
    span.appendChild(icon);
    span.appendChild(document.createTextNode(" " + known[1]));
    return span;
  }

  function setStatus(panel, parts, short) {
    var status = panel.querySelector("[data-check-status]");
    var before = status.textContent;
    var holder = document.createElement("span");
    parts.forEach(function (part) {
      holder.appendChild(typeof part === "string" ? document.createTextNode(part) : part);
    });
    // Only a real change is announced (the region is aria-live).
    if (holder.textContent.trim() !== before.trim()) {
      status.textContent = "";
      status.appendChild(holder);
    }
    var jump = document.querySelector("[data-check-jump]");
    if (jump && short) {
      // The bar repeats the result in short for phones (not announced again: it is no live region).
      jump.textContent = "Kriterien-Check: ";
      jump.appendChild(short);
      jump.appendChild(document.createTextNode(" – ansehen"));
      jump.hidden = false;
      document.body.classList.add("has-check-jump");
    }
  }

  function showCheck(panel, check) {
    setStatus(panel, ["Geprüft: Gesamtergebnis ", verdictNode(check.overall)], verdictNode(check.overall));
    Object.keys(check.criteria).forEach(function (key) {
      var item = panel.querySelector('[data-criterion="' + key + '"]');
      if (!item) { return; }
      var result = check.criteria[key];
      item.className = "criterion criterion-" + result.result;
      var verdict = item.querySelector("[data-verdict]");
      verdict.textContent = "";
      verdict.appendChild(verdictNode(result.result));
      item.querySelector("[data-explanation]").textContent = result.explanation;
    });
    panel.querySelector("[data-check-problems]").hidden = true;
  }

  function clearCriteria(panel) {
    Array.prototype.forEach.call(panel.querySelectorAll("[data-criterion]"), function (item) {
      item.className = "criterion";
      item.querySelector("[data-verdict]").textContent = "";
      item.querySelector("[data-explanation]").textContent = "";
    });
  }

  function showProblems(form, panel, fields, rowMap) {
    clearCriteria(panel);
    var one = fields.length === 1;
    var missing = fields.length + (one ? " Angabe fehlt" : " Angaben fehlen");
    var status = "Noch nicht prüfbar: " + missing + (one ? " oder ist ungültig." : " oder sind ungültig.");
    setStatus(panel, [status], document.createTextNode(missing));
    var box = panel.querySelector("[data-check-problems]");
    var list = box.querySelector("ul");
    list.textContent = "";
    fields.forEach(function (field) {
      var name = inputName(field.path || "", rowMap);
      var li = document.createElement("li");
      if (name && form.querySelector("#" + CSS.escape(fieldId(name)))) {
        var link = document.createElement("a");
        link.href = "#" + fieldId(name);
        link.textContent = fieldLabel(form, name) + ": " + field.message;
        li.appendChild(link);
      } else {
        li.textContent = (field.path ? field.path + ": " : "") + field.message;
      }
      list.appendChild(li);
    });
    box.hidden = false;
  }

  function showTrouble(panel, message) {
    setStatus(panel, [message]);
  }

  function liveCheck(form, panel) {
    var url = form.getAttribute("data-check-url");
    var token = form.querySelector('input[name="csrf_token"]').value;
    var sequence = 0;
    var timer = null;

    function run() {
      var built = buildDocument(form);
      var mine = ++sequence;
      panel.querySelector("[data-check-status]").setAttribute("aria-busy", "true");
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(built.doc)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          return { status: response.status, body: body };
        });
      }).then(function (answer) {
        if (mine !== sequence) { return; }  // a newer check is under way
        if (answer.status === 200 && answer.body.criteria) {
          showCheck(panel, answer.body);
        } else if (answer.status === 422 && answer.body.error && answer.body.error.fields) {
          showProblems(form, panel, answer.body.error.fields, built.rowMap);
        } else if (answer.status === 401) {
          showTrouble(panel, "Ihre Sitzung ist abgelaufen. Bitte melden Sie sich erneut an; Ihre Eingaben bleiben in diesem Fenster erhalten.");
        } else {
          showTrouble(panel, "Die Prüfung ist gerade nicht möglich. Mit „Prüfen“ unten geht es auch so.");
        }
      }).catch(function () {
        if (mine === sequence) {
          showTrouble(panel, "Die Prüfung ist gerade nicht erreichbar. Mit „Prüfen“ unten geht es auch so.");
        }
      }).then(function () {
        if (mine === sequence) {
          panel.querySelector("[data-check-status]").removeAttribute("aria-busy");
        }
      });
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, DELAY_MS);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    var now = form.querySelector("[data-check-now]");
    if (now) {
      now.addEventListener("click", function (event) {
        event.preventDefault();
        window.clearTimeout(timer);
        run();
        panel.querySelector("h2").setAttribute("tabindex", "-1");
        panel.querySelector("h2").focus();
      });
    }
    return schedule;
  }

  // --- repeatable rows ---------------------------------------------------------------------------

  function renumber(container) {
    Array.prototype.forEach.call(container.querySelectorAll("[data-row]"), function (row, i) {
      var number = row.querySelector("[data-row-number]");
      if (number) { number.textContent = String(i + 1); }
      var remove = row.querySelector(".row-remove");
      if (remove) {
        remove.setAttribute("aria-label", row.querySelector("legend").textContent.trim().replace(/\s+/g, " ") + " entfernen");
      }
    });
  }

  function addRemoveButton(row, container, changed) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button-link row-remove";
    button.textContent = "Zeile entfernen";
    button.addEventListener("click", function () {
      var listName = container.getAttribute("data-rows");
      row.remove();
      renumber(container);
      updateAddButton(listName);
      var add = document.querySelector('[data-add-row="' + listName + '"]');
      if (add) { add.focus(); }
      changed();
    });
    row.appendChild(button);
  }

  function updateAddButton(listName) {
    var add = document.querySelector('[data-add-row="' + listName + '"]');
    var container = document.querySelector('[data-rows="' + listName + '"]');
    if (!add || !container) { return; }
    var max = Number(add.getAttribute("data-max") || "100");
    add.hidden = container.querySelectorAll("[data-row]").length >= max;
  }

  function nextIndex(container, listName) {
    var highest = -1;
    Array.prototype.forEach.call(container.querySelectorAll("[name]"), function (el) {
      var match = ROW_NAME.exec(el.name);
      if (match && match[1] === listName) { highest = Math.max(highest, Number(match[2])); }
    });
    return highest + 1;
  }

  function enhanceRows(form, changed) {
    Array.prototype.forEach.call(form.querySelectorAll("[data-rows]"), function (container) {
      Array.prototype.forEach.call(container.querySelectorAll("[data-row]"), function (row) {
        addRemoveButton(row, container, changed);
      });
      renumber(container);
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-add-row]"), function (button) {
      var listName = button.getAttribute("data-add-row");
      button.addEventListener("click", function (event) {
        var container = form.querySelector('[data-rows="' + listName + '"]');
        var template = document.getElementById("vorlage-" + listName);
        if (!container || !template) { return; }  // the server adds the row instead
        event.preventDefault();
        var index = nextIndex(container, listName);
        var holder = document.createElement("div");
        holder.innerHTML = template.innerHTML.split("__i__").join(String(index));
        var row = holder.querySelector("[data-row]");
        container.appendChild(row);
        addRemoveButton(row, container, changed);
        renumber(container);
        updateAddButton(listName);
        var first = row.querySelector("input, select, textarea");
        if (first) { first.focus(); }
      });
      updateAddButton(listName);
    });
  }

  // The browser tests compare this document with the server's (tests/e2e: one rule, two languages).
  window.partnerprojekteForm = { buildDocument: buildDocument, inputName: inputName };

  // --- start -------------------------------------------------------------------------------------

  ready(function () {
    var summary = document.querySelector("[data-autofocus]");
    if (summary) { summary.focus(); }

    Array.prototype.forEach.call(document.querySelectorAll("[data-print]"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });

    var form = document.getElementById("vorschlag-formular");
    var panel = document.getElementById("kriterien");
    if (form && panel && window.fetch) {
      var changed = liveCheck(form, panel);
      enhanceRows(form, changed);
    }
  });
}());

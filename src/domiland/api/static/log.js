// The integration-log page (domiland.api.ui): reads the filters from its own URL, calls
// GET ../log (same origin, the Airflow UI's cookie) and renders the rows.
// Every value goes into the page as text (textContent), never as HTML.
"use strict";

(function () {
  const PAGE_SIZE = 50;
  const LANG_KEY = "domiland.log.lang";
  const STATUSES = ["Running", "Done", "Warning", "Error", "Duplicate"];
  const FIELDS = ["q", "task_type", "method", "created_from", "created_to", "organization_id"];

  const TEXT = {
    ru: {
      title: "Журнал интеграции",
      search: "Поиск по сообщению",
      searchHint: "слово или число из сообщения (от 3 букв или цифр)",
      status: "Статус",
      "st.Running": "Выполняется",
      "st.Done": "Выполнено",
      "st.Warning": "Предупреждение",
      "st.Error": "Ошибка",
      "st.Duplicate": "Дубликат",
      taskType: "Тип задачи",
      method: "Метод",
      from: "Создано с (UTC)",
      to: "по (UTC)",
      org: "Организация (ID)",
      any: "Любой",
      find: "Найти",
      reset: "Сбросить",
      "col.task": "Задача",
      "col.status": "Статус",
      "col.method": "Метод",
      "col.message": "Сообщение",
      "col.created": "Создано (UTC)",
      "col.updated": "Обновлено (UTC)",
      "col.org": "Организация",
      "col.run": "Запуск в Airflow",
      first: "← К началу",
      older: "Более ранние →",
      loading: "Загрузка…",
      found: "Найдено записей: {n}",
      foundMore: "Найдено записей: более {n}",
      nothing: "Ничего не найдено.",
      openRun: "Открыть запуск",
      details: "Подробности",
      hide: "Скрыть",
      noReport: "Отчёта нет.",
      signIn: "Сеанс Airflow завершён: войдите в Airflow и обновите страницу.",
      failed: "Журнал не загрузился: {msg}",
      dagRun: "DAG {dag}, запуск {run}",
    },
    en: {
      title: "Integration log",
      search: "Search the messages",
      searchHint: "a word or number from a message (3+ letters or digits)",
      status: "Status",
      "st.Running": "Running",
      "st.Done": "Done",
      "st.Warning": "Warning",
      "st.Error": "Error",
      "st.Duplicate": "Duplicate",
      taskType: "Task type",
      method: "Method",
      from: "Created from (UTC)",
      to: "to (UTC)",
      org: "Organization (ID)",
      any: "Any",
      find: "Search",
      reset: "Reset",
      "col.task": "Task",
      "col.status": "Status",
      "col.method": "Method",
      "col.message": "Message",
      "col.created": "Created (UTC)",
      "col.updated": "Updated (UTC)",
      "col.org": "Organization",
      "col.run": "Airflow run",
      first: "← Newest",
      older: "Older →",
      loading: "Loading…",
      found: "Entries found: {n}",
      foundMore: "Entries found: more than {n}",
      nothing: "Nothing found.",
      openRun: "Open the run",
      details: "Details",
      hide: "Hide",
      noReport: "No report.",
      signIn: "Your Airflow session has ended: sign in to Airflow and reload the page.",
      failed: "The log did not load: {msg}",
      dagRun: "DAG {dag}, run {run}",
    },
  };
  const TASK_TYPES_EN = {
    import_accruals: "Accruals import",
    import_payments: "Payments import",
    import_meter_readings: "Meter readings import",
    import_buildings: "Buildings import",
    import_clients: "Clients import",
    import_news: "News import",
    import_offers: "Showcase import",
    export_payments: "Payments export",
    export_meter_readings: "Meter readings export",
  };

  let lang = initialLang();
  let taskTypes = [];
  let lastPage = null;

  function initialLang() {
    try {
      const saved = localStorage.getItem(LANG_KEY);
      if (saved === "ru" || saved === "en") return saved;
      const airflow = localStorage.getItem("i18nextLng"); // the Airflow UI's own choice (same origin)
      const guess = (airflow || navigator.language || "ru").toLowerCase();
      return guess.startsWith("en") ? "en" : "ru";
    } catch (e) {
      return "ru";
    }
  }

  function t(key, vars) {
    let s = (TEXT[lang] && TEXT[lang][key]) || TEXT.ru[key] || key;
    for (const [k, v] of Object.entries(vars || {})) s = s.split("{" + k + "}").join(String(v));
    return s;
  }

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === "text") node.textContent = v;
      else if (k === "class") node.className = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v);
    }
    for (const c of children) if (c != null) node.append(c); // strings become text nodes
    return node;
  }

  function applyLang() {
    document.documentElement.lang = lang;
    document.title = t("title") + " — Domiland";
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.setAttribute("aria-pressed", String(b.dataset.lang === lang));
    }
    fillTaskTypes();
    if (lastPage) render(lastPage);
  }

  function taskTypeLabel(tt) {
    return lang === "en" ? TASK_TYPES_EN[tt.task_type] || tt.title : tt.title;
  }

  function fillTaskTypes() {
    const select = document.getElementById("task_type");
    const chosen = currentParams().get("task_type") || select.value;
    while (select.options.length > 1) select.remove(1);
    const known = new Set();
    for (const tt of taskTypes) {
      known.add(tt.task_type);
      select.append(el("option", { value: tt.task_type, text: taskTypeLabel(tt) }));
    }
    if (chosen && !known.has(chosen)) select.append(el("option", { value: chosen, text: chosen }));
    select.value = chosen || "";
  }

  function currentParams() {
    return new URLSearchParams(location.search);
  }

  // The form mirrors the page's URL; submitting navigates to the URL of the new filters,
  // so a search is a link (and the Airflow UI shows it in its own address bar).
  function fillForm(params) {
    const form = document.getElementById("filters");
    for (const name of FIELDS) if (form.elements[name]) form.elements[name].value = params.get(name) || "";
    const statuses = new Set(params.getAll("status").flatMap((s) => s.split(",")));
    for (const box of form.querySelectorAll("input[name=status]")) box.checked = statuses.has(box.value);
  }

  function formParams() {
    const form = document.getElementById("filters");
    const params = new URLSearchParams();
    for (const name of FIELDS) {
      const value = (form.elements[name].value || "").trim();
      if (value) params.set(name, value);
    }
    for (const box of form.querySelectorAll("input[name=status]:checked")) params.append("status", box.value);
    const limit = currentParams().get("limit");
    if (limit) params.set("limit", limit);
    return params;
  }

  function fmtTime(iso) {
    return iso ? iso.slice(0, 19).replace("T", " ") : "";
  }

  // A run's page in the Airflow UI, on this page's own origin (the API server serves both).
  function runHref(item) {
    if (!item.airflow_url) return null;
    const url = new URL(item.airflow_url, location.href);
    return url.origin === location.origin ? url.href : new URL(url.pathname + url.search, location.origin).href;
  }

  // Inside the Airflow UI this page is a sandboxed same-origin frame that may not navigate the top
  // window; the UI's router follows its history, so push the run's path there. Otherwise (or if the
  // parent is not reachable) the link is followed as usual.
  function openInAirflow(event) {
    if (window.top === window || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    try {
      const top = window.top;
      const url = new URL(event.currentTarget.href);
      if (url.origin !== top.location.origin) return;
      const state = top.history.state;
      const idx = state && typeof state.idx === "number" ? state.idx + 1 : 0;
      top.history.pushState({ usr: null, key: Math.random().toString(36).slice(2, 10), idx: idx }, "",
        url.pathname + url.search + url.hash);
      top.dispatchEvent(new PopStateEvent("popstate", { state: top.history.state }));
      event.preventDefault();
    } catch (e) {
      // not reachable: follow the link inside the frame
    }
  }

  function statusBadge(status) {
    const known = STATUSES.includes(status) ? status.toLowerCase() : "unknown";
    return el("span", { class: "badge st-" + known, text: t("st." + status) });
  }

  function render(page) {
    const tbody = document.getElementById("rows");
    tbody.replaceChildren();
    for (const item of page.data) tbody.append(row(item));
    const summary = document.getElementById("summary");
    if (!page.data.length && !currentParams().get("cursor")) summary.textContent = t("nothing");
    else if (page.count == null) summary.textContent = "";
    else {
      const n = page.count.toLocaleString(lang === "ru" ? "ru-RU" : "en-US");
      summary.textContent = t(page.count_exact ? "found" : "foundMore", { n: n });
    }
    const older = document.getElementById("older");
    if (page.next_cursor) {
      const params = currentParams();
      params.set("cursor", page.next_cursor);
      older.href = "?" + params.toString();
      older.hidden = false;
    } else {
      older.hidden = true;
      older.removeAttribute("href");
    }
    const first = document.getElementById("first");
    const params = currentParams();
    first.hidden = !params.has("cursor");
    params.delete("cursor");
    first.href = "?" + params.toString();
  }

  function row(item) {
    const english = lang === "en" && TASK_TYPES_EN[item.task_type];
    const name = english ? english + " " + item.id : item.task; // LOG-2: type name and number
    const toggle = el("button", { type: "button", class: "task", "aria-expanded": "false", text: name });
    const tr = el("tr", { "data-id": String(item.id) },
      el("td", {}, toggle, el("div", { class: "sub", text: item.task_type })),
      el("td", {}, statusBadge(item.status)),
      el("td", { text: item.method }),
      el("td", {}, el("div", { class: "message", text: item.message })),
      el("td", { class: "time", text: fmtTime(item.created_at) }),
      el("td", { class: "time", text: fmtTime(item.updated_at) }),
      el("td", { text: item.organization_code || (item.organization_id != null ? String(item.organization_id) : "—") }),
      runCell(item));
    toggle.addEventListener("click", () => toggleDetails(tr, item, toggle));
    return tr;
  }

  function runCell(item) {
    const href = runHref(item);
    if (!href) return el("td", { text: "—" });
    const title = t("dagRun", { dag: item.dag_id, run: item.run_id });
    const link = el("a", { href: href, class: "run", title: title, text: t("openRun") });
    link.addEventListener("click", openInAirflow);
    return el("td", {}, link, el("div", { class: "sub", text: item.dag_id }));
  }

  async function toggleDetails(tr, item, toggle) {
    const next = tr.nextElementSibling;
    if (next && next.classList.contains("details")) {
      next.remove();
      toggle.setAttribute("aria-expanded", "false");
      return;
    }
    toggle.setAttribute("aria-expanded", "true");
    const cell = el("td", { colspan: "8" }, el("p", { text: t("loading") }));
    tr.after(el("tr", { class: "details" }, cell));
    try {
      const entry = await getJson("../log/" + encodeURIComponent(item.id));
      const lines = [];
      if (entry.dag_id) lines.push(el("p", { text: t("dagRun", { dag: entry.dag_id, run: entry.run_id }) }));
      lines.push(el("pre", { text: entry.details ? JSON.stringify(entry.details, null, 2) : t("noReport") }));
      cell.replaceChildren(...lines);
    } catch (e) {
      cell.replaceChildren(el("p", { class: "problem", text: problemText(e) }));
    }
  }

  class HttpError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
      } catch (e) {
        // not JSON
      }
      throw new HttpError(response.status, detail);
    }
    return response.json();
  }

  function problemText(e) {
    return e.status === 401 ? t("signIn") : t("failed", { msg: e.message || String(e) });
  }

  async function load() {
    const params = currentParams();
    const query = new URLSearchParams();
    for (const [k, v] of params) if (v && (FIELDS.includes(k) || k === "status" || k === "cursor")) query.append(k, v);
    query.set("limit", params.get("limit") || String(PAGE_SIZE)); // ?limit=N (at most 200) for another page size
    const summary = document.getElementById("summary");
    const problem = document.getElementById("problem");
    summary.textContent = t("loading");
    problem.hidden = true;
    try {
      lastPage = await getJson("../log?" + query.toString());
      render(lastPage);
      document.body.dataset.state = "ready";
    } catch (e) {
      summary.textContent = "";
      problem.textContent = problemText(e);
      problem.hidden = false;
      document.body.dataset.state = "error";
    }
  }

  async function loadTaskTypes() {
    try {
      taskTypes = await getJson("../log/task-types");
    } catch (e) {
      taskTypes = [];
    }
    fillTaskTypes();
  }

  function start() {
    for (const b of document.querySelectorAll("[data-lang]")) {
      b.addEventListener("click", () => {
        lang = b.dataset.lang;
        try {
          localStorage.setItem(LANG_KEY, lang);
        } catch (e) {
          // storage unavailable: this page view only
        }
        applyLang();
      });
    }
    document.getElementById("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      const q = document.getElementById("q");
      if (!q.checkValidity()) {
        q.reportValidity();
        return;
      }
      const params = formParams();
      location.assign(params.toString() ? "?" + params.toString() : location.pathname);
    });
    fillForm(currentParams());
    applyLang();
    loadTaskTypes();
    load();
  }

  start();
})();

/* The supervisors' reports page: counts from the case records by month, quarter or year, a bar
 * chart and a table for each list, and the export for use outside the hotline.
 * Plain JavaScript, no framework, no chart library, no build step.
 *
 * The page shows the raw counts the API gives it (supervisors may see small ones). The export
 * is made by the server, always with small-cell suppression, and recorded in the audit trail:
 * this page only asks for it and hands the file over.
 *
 * Each chart is an inline SVG image of the row totals; its text alternative is the table next
 * to it, which holds every figure it draws and more (the table is the data).
 *
 * Security: every string that comes from the API (labels an admin typed, referral names)
 * reaches the page only through textContent / createTextNode (and SVG text nodes). Nothing here
 * uses innerHTML, insertAdjacentHTML, outerHTML, document.write or eval, and the only href
 * built is a same-origin blob of an export. An ES module: reports.html loads it with
 * type="module".
 */

(() => {
  const SVG_NS = "http://www.w3.org/2000/svg";
  const root = document.getElementById("reports");
  if (!root) return;
  const Staff = window.Staff;
  const { el } = Staff;

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $("status"),
    range: $("report-range"),
    from: $("report-from"),
    through: $("report-through"),
    show: $("report-show"),
    exportCsv: $("export-csv"),
    exportJson: $("export-json"),
    summary: $("report-summary"),
    tables: $("report-tables"),
    empty: $("report-empty"),
  };
  const state = { signedOut: false, report: null };

  const say = Staff.statusLine(ui.status, 6000);
  const signedOut = Staff.signedOutGuard(state, say, () => root.querySelectorAll("button, input"));
  const api = (method, path, body) => Staff.api(method, path, body, { onUnauthorized: signedOut });
  const attempt = Staff.attempter(say);

  // -- dates: the form says "from" and "to" inclusive; the API's "to" is the day after ----------

  const isoDay = (day) => day.toISOString().slice(0, 10);
  const parseDay = (text) => {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text || ""));
    return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  };
  const dayAfter = (text) => {
    const day = parseDay(text);
    if (!day) return "";
    day.setUTCDate(day.getUTCDate() + 1);
    return isoDay(day);
  };

  function defaultRange() {
    const today = new Date();
    ui.from.value = `${today.getUTCFullYear()}-01-01`;
    ui.through.value = isoDay(today);
  }

  function period() {
    const checked = ui.range.querySelector('input[name="by"]:checked');
    return checked ? checked.value : "month";
  }

  /** True when the form's range can be asked for; otherwise says why, in the form's terms (its
   * "to" is the last day; the API's is the day after). */
  function rangeChosen() {
    if (!ui.from.value || !ui.through.value) {
      say("Choose both dates first.", "error");
      return false;
    }
    if (ui.from.value > ui.through.value) {
      say("The first day must not be after the last day.", "error");
      ui.through.focus();
      return false;
    }
    return true;
  }

  function query() {
    return new URLSearchParams({ from: ui.from.value, to: dayAfter(ui.through.value), by: period() });
  }

  // -- naming periods ------------------------------------------------------------------------

  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  /** "2026-01" → "Jan 2026", "2026-Q1" → "Q1 2026", "2026" → "2026". */
  function periodName(key) {
    const text = String(key);
    let match = /^(\d{4})-(\d{2})$/.exec(text);
    if (match) return `${MONTHS[Number(match[2]) - 1] || match[2]} ${match[1]}`;
    match = /^(\d{4})-Q([1-4])$/.exec(text);
    if (match) return `Q${match[2]} ${match[1]}`;
    return text;
  }

  const formatCount = (value) => (typeof value === "number" ? value.toLocaleString() : String(value));

  // -- one list: its chart and its table -------------------------------------------------------

  function svg(tag, attributes = {}, text = null) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    if (text !== null) node.append(document.createTextNode(String(text)));
    return node;
  }

  /** Horizontal bars of each row's total over the whole range. */
  function chart(table, tableId) {
    const rows = table.rows;
    const labelWidth = 250;
    const barArea = 330;
    const rowHeight = 22;
    const width = labelWidth + barArea + 50;
    const height = Math.max(1, rows.length) * rowHeight + 8;
    const most = Math.max(1, ...rows.map((row) => (typeof row.total === "number" ? row.total : 0)));
    const image = svg("svg", {
      viewBox: `0 0 ${width} ${height}`,
      role: "img",
      "aria-label": `Bar chart of ${table.title.toLowerCase()}, total for the range; the table beside it holds the same figures.`,
      "aria-describedby": tableId,
      class: "report-chart",
    });
    rows.forEach((row, index) => {
      const y = 4 + index * rowHeight;
      const total = typeof row.total === "number" ? row.total : 0;
      const length = Math.max(total > 0 ? 2 : 0, Math.round((total / most) * barArea));
      image.append(svg("text", { x: labelWidth - 8, y: y + rowHeight / 2 + 4, class: "row-label", "text-anchor": "end" }, row.label));
      const bar = svg("rect", { x: labelWidth, y: y + 3, width: length, height: rowHeight - 6, class: row.code === "unknown" ? "bar unknown" : "bar", "data-code": row.code });
      bar.append(svg("title", {}, `${row.label}: ${formatCount(row.total)}`));
      image.append(bar);
      image.append(svg("text", { x: labelWidth + length + 6, y: y + rowHeight / 2 + 4, class: "value" }, formatCount(row.total)));
    });
    image.append(svg("line", { x1: labelWidth, y1: 2, x2: labelWidth, y2: height - 2, class: "axis" }));
    return image;
  }

  function countTable(report, table, tableId) {
    const node = el("table", "table report-table");
    node.id = tableId;
    node.dataset.dimension = table.dimension;
    node.append(el("caption", "visually-hidden", `${table.title}, by ${report.by}`));
    const head = el("tr", null, el("th", null, table.title));
    head.firstChild.scope = "col";
    for (const key of report.periods) {
      const cell = el("th", "num", periodName(key));
      cell.scope = "col";
      cell.dataset.period = key;
      head.append(cell);
    }
    const totalHead = el("th", "num", "Total");
    totalHead.scope = "col";
    head.append(totalHead);
    node.append(el("thead", null, head));

    const body = el("tbody");
    for (const row of table.rows) {
      const label = el("th", null, row.label);
      label.scope = "row";
      const line = el("tr", null, label);
      line.dataset.code = row.code;
      row.counts.forEach((count) => line.append(el("td", count === 0 ? "num zero" : "num", formatCount(count))));
      line.append(el("td", "num total", formatCount(row.total)));
      body.append(line);
    }
    node.append(body);

    const footLabel = el("th", null, "Total");
    footLabel.scope = "row";
    const foot = el("tr", null, footLabel);
    table.column_totals.forEach((count) => foot.append(el("td", "num", formatCount(count))));
    foot.append(el("td", "num total", formatCount(table.total)));
    node.append(el("tfoot", null, foot));
    return node;
  }

  function section(report, table) {
    const headingId = `report-${table.dimension}-heading`;
    const tableId = `report-${table.dimension}-table`;
    const part = el("section", "panel report-section");
    part.id = `report-${table.dimension}`;
    part.setAttribute("aria-labelledby", headingId);
    const heading = el("h3", null, table.title);
    heading.id = headingId;
    part.append(heading);
    if (table.rows.length === 0) {
      part.append(el("p", "empty", "Nothing recorded for this in the range."));
      return part;
    }
    const figure = el("figure", "chart report-figure", chart(table, tableId));
    const scroller = el("div", "table-scroll", countTable(report, table, tableId));
    scroller.tabIndex = 0;
    scroller.setAttribute("role", "region");
    scroller.setAttribute("aria-label", `${table.title}: the figures`);
    part.append(el("div", "report-pair", figure, scroller));
    return part;
  }

  function render(report) {
    state.report = report;
    const last = parseDay(report.to); // exclusive: the range ends the day before
    if (last) last.setUTCDate(last.getUTCDate() - 1);
    const through = last ? isoDay(last) : report.to;
    ui.summary.textContent = `${report.cases.toLocaleString()} ${report.cases === 1 ? "case" : "cases"} recorded for conversations opened from ${report.from} to ${through}, by ${report.by}.`;
    ui.tables.replaceChildren(...report.tables.map((table) => section(report, table)));
    ui.tables.hidden = report.cases === 0;
    ui.empty.hidden = report.cases !== 0;
  }

  async function load() {
    if (!rangeChosen()) return;
    const report = await api("GET", `/supervisor/api/reports?${query().toString()}`);
    render(report);
    if (ui.status.classList.contains("error")) say.clear(); // what it said is answered now
  }

  // -- the export: made by the server, suppressed and audited; handed over as a file --------

  async function exportAs(format, control) {
    if (!rangeChosen()) return;
    control.disabled = true;
    try {
      await attempt(async () => {
        const params = query();
        params.set("format", format);
        const response = await Staff.request("GET", `/supervisor/api/reports/export?${params.toString()}`);
        if (!response.ok) throw await Staff.failure(response, signedOut);
        const name = await Staff.download(response, `case-report.${format}`);
        say(`Exported ${name}, small counts suppressed. The export is recorded in the audit trail.`);
      });
    } finally {
      control.disabled = state.signedOut;
    }
  }

  ui.range.addEventListener("submit", (event) => {
    event.preventDefault();
    attempt(load);
  });
  for (const radio of ui.range.querySelectorAll('input[name="by"]')) {
    radio.addEventListener("change", () => attempt(load));
  }
  ui.exportCsv.addEventListener("click", () => exportAs("csv", ui.exportCsv));
  ui.exportJson.addEventListener("click", () => exportAs("json", ui.exportJson));

  defaultRange();
  attempt(load);
})();

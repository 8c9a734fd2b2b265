// The console's charts (ECharts, served from /static) and the segment builder's form.
"use strict";

function chartData() {
  return JSON.parse(document.getElementById("charts").textContent);
}

function chart(id, option) {
  const element = document.getElementById(id);
  if (!element) return null;
  const instance = echarts.init(element);
  instance.setOption(option);
  element.dataset.rendered = "true";  // the browser tests wait for this
  return instance;
}

function pie(id, rows) {
  chart(id, {
    tooltip: {trigger: "item"},
    series: [{type: "pie", radius: ["35%", "65%"],
              data: rows.map(r => ({name: r.label, value: r.people}))}],
  });
}

function drawDashboard(data) {
  const sales = data.sales;
  const yuan = rows => rows.map(r => Math.round(r.net_sales_fen / 100));
  chart("trend", {
    tooltip: {trigger: "axis"},
    legend: {data: ["this period", "previous period"]},
    xAxis: {type: "category", data: sales.series.map(r => r.sales_date)},
    yAxis: {type: "value", name: "yuan"},
    series: [
      {name: "this period", type: "line", data: yuan(sales.series)},
      {name: "previous period", type: "line", lineStyle: {type: "dashed"},
       data: yuan(sales.previous_series)},
    ],
  });
  chart("breakdown", {
    tooltip: {},
    xAxis: {type: "category", data: sales.breakdown.map(r => r.label)},
    yAxis: {type: "value", name: "yuan"},
    series: [{type: "bar", data: yuan(sales.breakdown)}],
  });
  pie("lifecycle", data.structure.lifecycle_stage);
  pie("tier", data.structure.tier);
  pie("rfm", data.structure.rfm_segment);
}

function drawOverlap(data) {
  const cells = [];
  data.overlap.forEach((row, i) => row.forEach((n, j) => cells.push([j, i, n])));
  chart("overlap", {
    tooltip: {},
    xAxis: {type: "category", data: data.names},
    yAxis: {type: "category", data: data.names},
    visualMap: {min: 0, max: Math.max(1, ...cells.map(c => c[2])), calculable: true,
                orient: "horizontal", left: "center", bottom: 0},
    series: [{type: "heatmap", data: cells, label: {show: true}}],
  });
}

function drawRfmHistory(rows) {
  if (!rows || !rows.length) return;
  chart("rfm-history", {
    tooltip: {trigger: "axis"},
    xAxis: {type: "category", data: rows.map(r => r.as_of)},
    yAxis: {type: "category", data: [...new Set(rows.map(r => r.segment))]},
    series: [{type: "line", step: "end", data: rows.map(r => r.segment)}],
  });
}

// -- segment builder --------------------------------------------------------------------------
const VALUE_KINDS = ["tag", "lifecycle_stage", "rfm_segment", "tier", "city"];

function element(tag, attributes, children) {
  const node = document.createElement(tag);
  Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, v));
  (children || []).forEach(c => node.append(c));
  return node;
}

function optionsOf(values, multiple, cls) {
  const select = element("select", multiple ? {multiple: "", class: cls} : {class: cls});
  values.forEach(v => select.append(element("option", {value: v}, [v])));
  return select;
}

function conditionRow(kind, options, onChange) {
  const row = element("div", {class: "condition", "data-kind": kind}, [element("b", {}, [kind + " "])]);
  if (VALUE_KINDS.includes(kind)) {
    row.append(optionsOf(options[kind], true, "values"));
  } else if (kind === "metric") {
    row.append(optionsOf(options.metric, false, "field"),
               optionsOf(["gte", "gt", "lte", "lt"], false, "op"),
               element("input", {class: "number", type: "number", value: "1"}));
  } else if (kind === "events") {
    row.append("channel ", optionsOf(options.channel, false, "channel"),
               " event ", optionsOf(["(any)", ...options.event_type], false, "event-type"),
               " in the last ", element("input", {class: "days", type: "number", value: "30"}),
               " days, at least ", element("input", {class: "count", type: "number", value: "1"}), " times");
  }
  const remove = element("button", {type: "button", class: "remove"}, ["remove"]);
  remove.onclick = () => { row.remove(); onChange(); };
  row.append(" ", remove);
  row.addEventListener("change", onChange);
  row.addEventListener("input", onChange);
  return row;
}

function conditionOf(row) {
  const kind = row.dataset.kind;
  const picked = cls => [...row.querySelector("." + cls).selectedOptions].map(o => o.value);
  const value = cls => row.querySelector("." + cls).value;
  if (kind === "tag") return {kind: "tag", tags: picked("values")};
  if (kind === "city") return {kind: "field", mart: "customer_360", field: "city", in: picked("values")};
  if (VALUE_KINDS.includes(kind)) return {kind: kind, in: picked("values")};
  if (kind === "metric") return {kind: "metric", field: value("field"), [value("op")]: Number(value("number"))};
  const events = {kind: "events", channel: [value("channel")], window: {days: Number(value("days"))},
                  count: {gte: Number(value("count"))}};
  if (value("event-type") !== "(any)") events.event_type = [value("event-type")];
  return events;
}

function startBuilder(options) {
  const form = document.getElementById("builder");
  const conditions = document.getElementById("conditions");
  let upload = "";
  let timer = null;
  const formData = () => ({
    name: document.getElementById("seg-name").value.trim(),
    owner: document.getElementById("seg-owner").value.trim(),
    description: document.getElementById("seg-description").value.trim(),
    match: document.getElementById("seg-match").value,
    conditions: [...conditions.children].map(conditionOf),
    channels: [...form.querySelectorAll("input[name=channel]:checked")].map(c => c.value),
    include_csv: upload,
  });
  const show = result => {
    document.getElementById("yaml").textContent = result.yaml || "";
    const errors = document.getElementById("errors");
    errors.replaceChildren(...(result.errors || []).map(e => element("li", {}, [e])));
    document.getElementById("status").textContent = (result.errors || []).length
      ? "Not valid yet." : `Valid: ${result.size} people.`;
  };
  const post = (url, body) => fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                          body: JSON.stringify(body)});
  const validate = () => {
    clearTimeout(timer);
    timer = setTimeout(() => post("/builder/validate", formData()).then(r => r.json()).then(show), 250);
  };
  document.getElementById("add-condition").onclick = () => {
    conditions.append(conditionRow(document.getElementById("add-kind").value, options, validate));
    validate();
  };
  document.getElementById("seg-upload").onchange = event => {
    const file = event.target.files[0];
    if (!file) { upload = ""; validate(); return; }
    file.text().then(text => { upload = text; validate(); });
  };
  form.addEventListener("input", validate);
  form.addEventListener("change", validate);
  document.getElementById("save").onclick = () => {
    post("/builder/save", formData()).then(r => r.json()).then(result => {
      if (result.url) window.location = result.url; else show(result);
    });
  };
}

// The GraphQL explorer of Pro Bono Ledger: a query editor, variables, a bearer token (kept
// in this tab's session storage only) and a list of the schema's root fields. It talks only
// to this server.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const token = $("token"), query = $("query"), variables = $("variables"), result = $("result");
  token.value = sessionStorage.getItem("probono-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("probono-token", token.value.trim()));

  async function post(body) {
    const headers = { "Content-Type": "application/json", "Accept": "application/json" };
    if (token.value.trim()) headers["Authorization"] = "Bearer " + token.value.trim();
    const resp = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify(body) });
    const text = await resp.text();
    try { return { status: resp.status, json: JSON.parse(text) }; } catch (_) { return { status: resp.status, text }; }
  }

  async function run() {
    let vars = {};
    try { vars = variables.value.trim() ? JSON.parse(variables.value) : {}; }
    catch (e) { result.textContent = "The variables are not valid JSON: " + e.message; return; }
    result.textContent = "…";
    try {
      const r = await post({ query: query.value, variables: vars });
      result.textContent = "HTTP " + r.status + "\n" + (r.json ? JSON.stringify(r.json, null, 2) : r.text);
    } catch (e) { result.textContent = "The request failed: " + e.message; }
  }

  const typeName = (t) => t.kind === "NON_NULL" ? typeName(t.ofType) + "!" : t.kind === "LIST" ? "[" + typeName(t.ofType) + "]" : t.name;
  const TYPE = "kind name ofType { kind name ofType { kind name ofType { kind name } } }";
  const SCHEMA = "{ __schema { queryType { fields { name description args { name type { " + TYPE + " } } type { " + TYPE +
    " } } } mutationType { fields { name description args { name type { " + TYPE + " } } type { " + TYPE + " } } } } }";

  function list(title, fields, keyword) {
    const box = $("schema");
    const h = document.createElement("h3"); h.textContent = title; box.appendChild(h);
    const ul = document.createElement("ul");
    for (const f of fields) {
      const li = document.createElement("li");
      const a = document.createElement("a");
      const args = f.args.map((x) => x.name + ": " + typeName(x.type)).join(", ");
      a.href = "#"; a.textContent = f.name + (args ? "(" + args + ")" : "") + ": " + typeName(f.type);
      a.addEventListener("click", (e) => {
        e.preventDefault();
        const params = f.args.map((x) => x.name + ": $" + x.name).join(", ");
        const decl = f.args.map((x) => "$" + x.name + ": " + typeName(x.type)).join(", ");
        query.value = keyword + (decl ? " (" + decl + ")" : "") + " {\n  " + f.name + (params ? "(" + params + ")" : "") + " {\n    __typename\n  }\n}";
        query.focus();
      });
      li.appendChild(a);
      if (f.description) { const d = document.createElement("div"); d.className = "doc"; d.textContent = f.description; li.appendChild(d); }
      ul.appendChild(li);
    }
    box.appendChild(ul);
  }

  async function loadSchema() {
    $("schema").textContent = "";
    const r = await post({ query: SCHEMA });
    if (!r.json || r.json.errors) { $("schema").textContent = "The schema could not be read: " + JSON.stringify(r.json || r.text); return; }
    list("Queries", r.json.data.__schema.queryType.fields, "query");
    list("Mutations", r.json.data.__schema.mutationType.fields, "mutation");
  }

  $("run").addEventListener("click", run);
  $("load-schema").addEventListener("click", loadSchema);
  query.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); run(); } });
})();

// Xeno's dashboard page (/app): plain browser JavaScript over the public API, same origin.
// Charts are drawn by plotly.js, served by Xeno from the `plotly` package (/assets/).
"use strict";

(() => {
  const API = "/api/v1";
  const SESSION_KEY = "xeno.session";
  const STORE_KEY = "xeno.store";
  const $ = (id) => document.getElementById(id);

  const state = {
    session: null, // {token, refreshToken, email, expiresAt}
    tenants: [],
    tenant: null,
    timeZone: "UTC",
    refreshTimer: null,
    stream: null, // AbortController of the event stream
    reloadTimer: null,
    plotly: null,
  };

  // ---- status and views -------------------------------------------------------------

  function say(message) {
    $("status").textContent = message || "";
  }

  function show(view) {
    const loggedIn = view === "app";
    $("login-view").hidden = loggedIn;
    $("store-view").hidden = !loggedIn;
    $("dashboard").hidden = !loggedIn || !state.tenant;
    $("session").hidden = !loggedIn;
    if (loggedIn) $("user-email").textContent = state.session.email;
  }

  // ---- session: tokens kept for the tab, refreshed a minute before they expire ---------

  function acceptTokens(body) {
    const ttl = body.expiresIn * 1000;
    state.session = {
      token: body.token,
      refreshToken: body.refreshToken,
      email: body.user.email,
      expiresAt: Date.now() + ttl,
    };
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(state.session));
    scheduleRefresh();
  }

  function scheduleRefresh() {
    clearTimeout(state.refreshTimer);
    const left = state.session.expiresAt - Date.now();
    const lead = Math.min(60000, left / 5);
    state.refreshTimer = setTimeout(() => refresh().catch(() => {}), Math.max(1000, left - lead));
  }

  let refreshing = null;
  function refresh() {
    if (!refreshing) {
      refreshing = (async () => {
        const response = await fetch(`${API}/auth/refresh`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refreshToken: state.session.refreshToken }),
        });
        if (!response.ok) {
          endSession("Your session ended; please log in again.");
          throw new Error("session ended");
        }
        acceptTokens(await response.json());
      })().finally(() => {
        refreshing = null;
      });
    }
    return refreshing;
  }

  function endSession(message) {
    clearTimeout(state.refreshTimer);
    if (state.stream) state.stream.abort();
    sessionStorage.removeItem(SESSION_KEY);
    state.session = null;
    state.tenant = null;
    show("login");
    say(message);
  }

  async function api(path, { method = "GET", body, retry = true } = {}) {
    const headers = { authorization: `Bearer ${state.session.token}` };
    if (state.tenant) headers["x-tenant-id"] = state.tenant.id;
    if (body !== undefined) headers["content-type"] = "application/json";
    const response = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401 && retry) {
      await refresh();
      return api(path, { method, body, retry: false });
    }
    const data = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.error) || `request failed (${response.status})`);
    return data;
  }

  async function authenticate(kind) {
    const form = $("login-form");
    if (!form.reportValidity()) return;
    say("");
    const response = await fetch(`${API}/auth/${kind}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: $("login-email").value, password: $("login-password").value }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      say(data.error || `could not ${kind === "login" ? "log in" : "register"}`);
      return;
    }
    $("login-password").value = "";
    acceptTokens(data);
    await start();
  }

  // ---- stores ------------------------------------------------------------------------

  async function loadStores(preferred) {
    state.tenants = await api("/tenant");
    const select = $("store");
    select.replaceChildren(
      ...state.tenants.map((t) => new Option(`${t.name} (${t.shopifyDomain})`, t.id)),
    );
    const wanted = preferred || sessionStorage.getItem(STORE_KEY);
    const chosen = state.tenants.find((t) => t.id === wanted) || state.tenants[0] || null;
    if (!chosen) {
      state.tenant = null;
      $("connect").open = true;
      show("app");
      say("Connect a store to see its insights.");
      return;
    }
    select.value = chosen.id;
    await chooseStore(chosen, { resetRange: true });
  }

  async function chooseStore(tenant, { resetRange }) {
    state.tenant = tenant;
    sessionStorage.setItem(STORE_KEY, tenant.id);
    show("app");
    if (resetRange) {
      // The default range ends today in the store's time zone, which the dashboard names.
      const first = await api("/insights/dashboard");
      state.timeZone = first.timeZone || "UTC";
      const end = todayIn(state.timeZone);
      $("end-date").value = end;
      $("start-date").value = addDays(end, -29);
    }
    await loadDashboard();
    listen();
  }

  async function connectStore(event) {
    event.preventDefault();
    const form = event.target;
    if (!form.reportValidity()) return;
    const body = Object.fromEntries(new FormData(form).entries());
    if (!body.webhookSecret) delete body.webhookSecret;
    try {
      const tenant = await api("/tenant", { method: "POST", body });
      form.reset();
      $("connect").open = false;
      say(`Connected ${tenant.name}; its first sync starts shortly.`);
      await loadStores(tenant.id);
    } catch (error) {
      say(error.message);
    }
  }

  // ---- dates in the store's time zone -----------------------------------------------

  function todayIn(timeZone) {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone, year: "numeric", month: "2-digit", day: "2-digit",
    }).format(new Date());
    return parts; // en-CA formats as YYYY-MM-DD
  }

  function addDays(isoDate, days) {
    const [y, m, d] = isoDate.split("-").map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }

  // ---- the dashboard -------------------------------------------------------------------

  function moneyFormat(currency) {
    return currency
      ? new Intl.NumberFormat(undefined, { style: "currency", currency })
      : new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function setFigure(id, value, text) {
    const element = $(id);
    element.textContent = text;
    element.dataset.value = String(value);
  }

  async function loadDashboard() {
    const params = new URLSearchParams({
      startDate: $("start-date").value,
      endDate: $("end-date").value,
    });
    const tenantId = state.tenant.id;
    say("Loading…");
    try {
      const [dashboard, carts] = await Promise.all([
        api(`/insights/dashboard?${params}`),
        api(`/insights/abandoned-carts?${params}&limit=20`),
      ]);
      if (!state.tenant || state.tenant.id !== tenantId) return; // the store changed meanwhile
      state.timeZone = dashboard.timeZone || state.timeZone;
      render(dashboard, carts);
      say("");
    } catch (error) {
      say(error.message);
    }
  }

  function render(d, carts) {
    const money = moneyFormat(d.currency);
    const count = new Intl.NumberFormat();
    const zone = `${d.currency || "currency unknown"}, ${d.timeZone}`;
    $("range-label").textContent = `${d.startDate} to ${d.endDate} (${zone})`;
    setFigure("kpi-revenue", d.totalRevenue, money.format(d.totalRevenue));
    setFigure("kpi-orders", d.totalOrders, count.format(d.totalOrders));
    const aov = d.totalOrders ? d.totalRevenue / d.totalOrders : 0;
    setFigure("kpi-aov", aov, d.totalOrders ? money.format(aov) : "–");
    setFigure("kpi-customers", d.totalCustomers, count.format(d.totalCustomers));
    setFigure("kpi-new-customers", d.newCustomers, count.format(d.newCustomers));
    setFigure("kpi-abandoned", d.abandonedCarts, count.format(d.abandonedCarts));
    $("dashboard").dataset.tenant = state.tenant.id;
    $("dashboard").dataset.range = `${d.startDate}/${d.endDate}`;

    const customers = $("top-customers").tBodies[0];
    customers.replaceChildren(
      ...d.topCustomers.map((c) => row([
        [c.firstName || c.lastName ? `${c.firstName || ""} ${c.lastName || ""}`.trim() : c.email || "Guest"],
        [count.format(c.ordersCount), "num"],
        [money.format(c.totalSpent), "num"],
      ])),
    );
    if (!d.topCustomers.length) customers.append(row([["No orders in this range"]]));

    const when = new Intl.DateTimeFormat(undefined, {
      dateStyle: "medium", timeStyle: "short", timeZone: d.timeZone,
    });
    const cartRows = $("abandoned-carts").tBodies[0];
    cartRows.replaceChildren(
      ...carts.map((cart) => row([
        [when.format(new Date(cart.data.abandonedAt))],
        [cart.customer ? cart.customer.email || cart.customer.firstName || "Customer" : "Guest"],
        [count.format(itemCount(cart.data.cart)), "num"],
      ])),
    );
    if (!carts.length) cartRows.append(row([["No abandoned carts in this range"]]));

    drawCharts(d, money).catch((error) => say(`Charts unavailable: ${error.message}`));
  }

  function itemCount(cart) {
    const lines = Array.isArray(cart) ? cart : (cart && cart.line_items) || [];
    return lines.reduce((sum, line) => sum + (Number(line.quantity) || 0), 0);
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const [text, cls] of cells) {
      const td = document.createElement("td");
      td.textContent = text;
      if (cls) td.className = cls;
      tr.append(td);
    }
    return tr;
  }

  // plotly.js is large: the figures and tables paint first, the charts when it has loaded.
  function loadPlotly() {
    if (!state.plotly) {
      state.plotly = new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = "/assets/plotly.min.js";
        script.onload = () => resolve(window.Plotly);
        script.onerror = () => reject(new Error("could not load plotly.js"));
        document.head.append(script);
      });
    }
    return state.plotly;
  }

  async function drawCharts(d, money) {
    const Plotly = await loadPlotly();
    const config = { displayModeBar: false, responsive: true };
    const font = { family: getComputedStyle(document.body).fontFamily, size: 12 };
    const days = d.ordersByDate;
    const currency = d.currency || "";
    await Plotly.react("chart-days", [
      {
        type: "bar", name: "Orders", x: days.map((x) => x.date), y: days.map((x) => x.orders),
        yaxis: "y2", marker: { color: "#9ecae1" },
      },
      {
        type: "scatter", mode: "lines+markers", name: `Revenue ${currency}`.trim(),
        x: days.map((x) => x.date), y: days.map((x) => x.revenue),
        line: { color: "#1f4e79", width: 2 },
        hovertemplate: "%{x}: %{customdata}<extra></extra>",
        customdata: days.map((x) => money.format(x.revenue)),
      },
    ], {
      font, margin: { l: 56, r: 48, t: 8, b: 40 }, legend: { orientation: "h", y: -0.2 },
      yaxis: { title: { text: `Revenue ${currency}`.trim() }, rangemode: "tozero" },
      yaxis2: { title: { text: "Orders" }, overlaying: "y", side: "right", rangemode: "tozero" },
      xaxis: { type: "date" },
    }, config);
    const products = [...d.revenueByProduct].reverse();
    await Plotly.react("chart-products", [{
      type: "bar", orientation: "h", x: products.map((p) => p.revenue),
      y: products.map((p) => p.name), marker: { color: "#1f4e79" },
      customdata: products.map((p) => `${money.format(p.revenue)}, ${p.quantity} sold`),
      hovertemplate: "%{y}: %{customdata}<extra></extra>",
    }], {
      font, margin: { l: 140, r: 16, t: 8, b: 40 },
      xaxis: { title: { text: `Revenue ${currency}`.trim() }, rangemode: "tozero" },
      yaxis: { automargin: true },
    }, config);
    $("chart-days").setAttribute(
      "aria-label",
      `Revenue and orders per day: ${money.format(d.totalRevenue)} from ${d.totalOrders} orders`,
    );
    $("chart-products").setAttribute(
      "aria-label",
      "Revenue by product: " + d.revenueByProduct.map((p) => `${p.name} ${money.format(p.revenue)}`).join("; "),
    );
  }

  // ---- sync: request it, then watch it to the end -----------------------------------

  async function sync() {
    const button = $("sync");
    button.disabled = true;
    const status = $("sync-status");
    try {
      const accepted = await api("/shopify/sync", { method: "POST", body: {} });
      status.textContent = `Sync ${accepted.status}…`;
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const run = await api(`/shopify/sync/${accepted.syncId}`);
        const rows = Object.values(run.rowsLoaded || {}).reduce((a, b) => a + b, 0);
        status.textContent = `Sync ${run.status}${rows ? ` (${rows} rows loaded)` : ""}…`;
        if (run.status === "succeeded") {
          status.textContent = `Sync done: ${rows} rows loaded.`;
          await loadDashboard();
          break;
        }
        if (run.status === "failed") {
          status.textContent = `Sync failed: ${run.error || "unknown error"}`;
          break;
        }
      }
    } catch (error) {
      status.textContent = `Sync: ${error.message}`;
    } finally {
      button.disabled = false;
    }
  }

  // ---- live orders through the event stream (SSE over fetch: it needs headers) --------

  function listen() {
    if (state.stream) state.stream.abort();
    const controller = new AbortController();
    state.stream = controller;
    $("live-orders").replaceChildren();
    readStream(controller).catch(() => {});
  }

  async function readStream(controller) {
    while (!controller.signal.aborted && state.session && state.tenant) {
      try {
        const response = await fetch(`${API}/events/stream`, {
          headers: {
            authorization: `Bearer ${state.session.token}`,
            "x-tenant-id": state.tenant.id,
            accept: "text/event-stream",
          },
          signal: controller.signal,
        });
        if (response.status === 401) {
          await refresh();
          continue;
        }
        if (!response.ok) throw new Error(`stream ${response.status}`);
        const reader = response.body.getReader();
        const decoder = new TextDecoder();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            handleEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
      }
      $("live-state").textContent = "Reconnecting…";
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }

  function handleEvent(block) {
    let event = "message";
    const data = [];
    for (const line of block.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
    }
    if (event === "ready") {
      $("live-state").textContent = "Listening for new orders.";
      return;
    }
    if (event !== "orders") return;
    const message = JSON.parse(data.join("\n") || "{}");
    const list = $("live-orders");
    const at = new Intl.DateTimeFormat(undefined, { timeStyle: "medium", timeZone: state.timeZone })
      .format(new Date());
    for (const id of message.ids || []) {
      const item = document.createElement("li");
      item.textContent = `${at}: order ${id}`;
      item.dataset.orderId = String(id);
      list.prepend(item);
    }
    while (list.children.length > 20) list.lastElementChild.remove();
    // the marts follow the webhook within seconds: refresh the figures once things settle
    clearTimeout(state.reloadTimer);
    state.reloadTimer = setTimeout(loadDashboard, 3000);
  }

  // ---- wiring ----------------------------------------------------------------------------

  async function start() {
    show("app");
    try {
      await loadStores();
    } catch (error) {
      say(error.message);
    }
  }

  function init() {
    $("login-form").addEventListener("submit", (event) => {
      event.preventDefault();
      authenticate("login");
    });
    $("register-submit").addEventListener("click", () => authenticate("register"));
    $("logout").addEventListener("click", async () => {
      const refreshToken = state.session && state.session.refreshToken;
      if (refreshToken) await api("/auth/logout", { method: "POST", body: { refreshToken } }).catch(() => {});
      endSession("Logged out.");
    });
    $("store").addEventListener("change", (event) => {
      const tenant = state.tenants.find((t) => t.id === event.target.value);
      if (tenant) chooseStore(tenant, { resetRange: true }).catch((error) => say(error.message));
    });
    $("filters").addEventListener("submit", (event) => {
      event.preventDefault();
      if (!event.target.reportValidity()) return;
      if ($("start-date").value > $("end-date").value) {
        say("The start date must not be after the end date.");
        return;
      }
      loadDashboard();
    });
    $("sync").addEventListener("click", sync);
    $("connect-form").addEventListener("submit", connectStore);

    const saved = sessionStorage.getItem(SESSION_KEY);
    if (saved) {
      state.session = JSON.parse(saved);
      const ready = state.session.expiresAt - Date.now() > 5000 ? Promise.resolve() : refresh();
      ready.then(() => {
        scheduleRefresh();
        return start();
      }).catch(() => {});
    } else {
      show("login");
    }
  }

  init();
})();

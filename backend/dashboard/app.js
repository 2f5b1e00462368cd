// The household dashboard: plain JavaScript in the browser, uPlot for the
// charts, the backend's aggregated routes for every figure (nothing is
// summed here but the report's total row). The token stays in this tab's
// sessionStorage and goes out only as the Authorization header.
'use strict';

(() => {
  const TOKEN = 'smgw-token';
  const METER = 'smgw-meter';
  const $ = (id) => document.getElementById(id);
  const view = $('view');
  const state = { meters: [], meter: null, charts: [], timer: null };

  // ---- formatting ----

  const nf = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const nf0 = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 0 });
  const kwh = (v) => (v === null || v === undefined ? '–' : `${nf.format(v)} kWh`);
  const percent = (v) => (v === null || v === undefined ? '–' : `${(v * 100).toFixed(1)} %`);
  const money = (v, currency) => new Intl.NumberFormat('en-GB', { style: 'currency', currency }).format(v);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const change = (now, before) => {
    if (!before) return 'no data to compare';
    const p = ((now - before) / before) * 100;
    return `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(0)} %`;
  };
  const watts = (w) => `${nf0.format(Math.abs(w))} W`;
  /** Net power in words: the sign says which way it flows. */
  const flowOf = (w) => (w >= 0 ? `importing ${watts(w)}` : `feeding in ${watts(w)}`);
  const clock = (iso, zone) => new Date(iso).toLocaleTimeString('en-GB', { timeZone: zone, hourCycle: 'h23' });
  const dayName = (iso, zone) => new Date(iso).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: zone });

  // ---- the API ----

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path, options = {}) {
    const token = sessionStorage.getItem(TOKEN);
    const res = await fetch(path, { ...options, headers: { ...(options.headers || {}), authorization: `Bearer ${token}` } });
    if (res.status === 401) {
      logout('Your token was not accepted. Log in again.');
      throw new ApiError(401, 'not logged in');
    }
    const type = res.headers.get('content-type') || '';
    if (!res.ok) {
      const body = type.includes('json') ? await res.json() : { error: await res.text() };
      throw new ApiError(res.status, body.error || `HTTP ${res.status}`);
    }
    return type.includes('json') ? res.json() : res.blob();
  }

  function showError(e) {
    const el = $('error');
    if (!e) {
      el.hidden = true;
      el.textContent = '';
      return;
    }
    el.hidden = false;
    el.textContent = e.status === 404 ? `Not available: ${e.message}. This meter does not exist or does not belong to your household (HTTP 404).` : e.status === 403 ? `Not allowed: ${e.message} (HTTP 403).` : `Error: ${e.message}`;
  }

  /** A CSV download through fetch: the link itself cannot carry the token. */
  async function download(path, name) {
    try {
      const blob = await api(path);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    } catch (e) {
      showError(e);
    }
  }

  // ---- login ----

  function stopPolling() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }

  function logout(message) {
    stopPolling();
    sessionStorage.removeItem(TOKEN);
    for (const c of state.charts) c.destroy();
    state.charts = [];
    view.innerHTML = '';
    $('nav').hidden = true;
    $('who').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
  }

  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const token = $('token').value.trim();
    sessionStorage.setItem(TOKEN, token);
    $('token').value = '';
    await start();
  });
  $('logout').addEventListener('click', () => logout(''));

  async function start() {
    if (!sessionStorage.getItem(TOKEN)) return logout('');
    try {
      state.meters = (await api('/api/v1/meters')).meters;
    } catch (e) {
      if (e.status === 403) {
        sessionStorage.removeItem(TOKEN);
        return logout('This token is not a household or admin token.');
      }
      if (e.status !== 401) showError(e);
      return;
    }
    state.admin = false;
    try {
      await api('/api/v1/admin/households');
      state.admin = true;
    } catch (e) {
      if (e.status !== 403) throw e;
    }
    document.querySelector('nav a[data-view="devices"]').hidden = !state.admin;
    $('login').hidden = true;
    $('nav').hidden = false;
    $('who').hidden = false;
    const select = $('meter');
    select.innerHTML = state.meters.map((m) => `<option value="${esc(m.id)}" title="${m.role === 'generation' ? 'PV generation meter' : 'grid connection'}">${esc(m.id)}</option>`).join('');
    if (!state.meters.length && !(state.admin && parseHash().view === 'devices')) {
      view.innerHTML = '<div class="card"><h2>No meter yet</h2><p>Your gateway has not delivered any readings yet.</p></div>';
      return;
    }
    route();
  }

  $('meter').addEventListener('change', () => {
    const r = parseHash();
    location.hash = hashOf(r.view, $('meter').value, {});
  });

  // ---- routing: #view/meterId?date=...&days=... ----

  function parseHash() {
    const m = /^#?(\w+)?(?:\/([^?]*))?(?:\?(.*))?$/.exec(location.hash) || [];
    const v = ['overview', 'profile', 'history', 'live', 'devices'].includes(m[1]) ? m[1] : 'overview';
    // The first grid meter unless one was chosen: the household's consumption, not its PV meter.
    const first = state.meters.find((x) => x.role !== 'generation') || state.meters[0];
    const meter = m[2] ? decodeURIComponent(m[2]) : sessionStorage.getItem(METER) || (first && first.id);
    return { view: v, meter, params: new URLSearchParams(m[3] || '') };
  }

  function hashOf(v, meter, params) {
    const q = new URLSearchParams(Object.entries(params).filter(([, x]) => x !== undefined && x !== '')).toString();
    return `#${v}/${encodeURIComponent(meter)}${q ? '?' + q : ''}`;
  }

  window.addEventListener('hashchange', () => route());
  window.addEventListener('resize', () => {
    for (const c of state.charts) c.setSize(size(c.root.parentElement));
  });

  async function route() {
    if (!sessionStorage.getItem(TOKEN)) return;
    const r = parseHash();
    state.meter = r.meter;
    if (r.meter && state.meters.some((m) => m.id === r.meter)) {
      sessionStorage.setItem(METER, r.meter);
      $('meter').value = r.meter;
    }
    for (const a of document.querySelectorAll('nav a')) {
      a.classList.toggle('active', a.dataset.view === r.view);
      a.href = hashOf(a.dataset.view, r.meter, {});
    }
    stopPolling();
    for (const c of state.charts) c.destroy();
    state.charts = [];
    showError(null);
    view.innerHTML = '<p class="note">Loading…</p>';
    view.dataset.view = r.view;
    view.dataset.ready = '';
    try {
      if (r.view === 'overview') await overview(r);
      else if (r.view === 'profile') await profile(r);
      else if (r.view === 'devices') await devices();
      else if (r.view === 'live') await live(r);
      else await history(r);
      view.dataset.ready = r.view;
    } catch (e) {
      view.innerHTML = '';
      view.dataset.ready = 'error';
      showError(e);
    }
  }

  const meterPath = (meter, what) => `/api/v1/meters/${encodeURIComponent(meter)}/${what}`;

  // ---- overview ----

  async function overview(r) {
    const date = r.params.get('date') || '';
    const o = await api(meterPath(r.meter, 'overview') + (date ? `?date=${encodeURIComponent(date)}` : ''));
    const meter = state.meters.find((m) => m.id === r.meter);
    const cur = o.tariff.currency;
    const figure = (cls, label, v, key) => `<div class="figure"><div class="label">${label}</div><div class="value ${cls}" data-figure="${key}" data-kwh="${v}">${kwh(v)}</div></div>`;
    const missing = (p) => (p.missing ? `<p class="note">${p.missing} of ${p.intervals} quarter-hours have no reading and are left out.</p>` : '');
    const monthName = new Date(o.month.from).toLocaleDateString('en-GB', { month: 'long', year: 'numeric', timeZone: o.zone });
    const rows = o.month.days
      .map((d) => `<tr><td>${esc(d.date)}</td><td>${nf.format(d.importKWh)}</td><td>${nf.format(d.exportKWh)}</td><td>${d.missing || ''}</td></tr>`)
      .join('');
    view.innerHTML = `
      <div class="controls">
        <label>Day <input type="date" id="ov-date" value="${esc(o.date)}"></label>
        <span class="note">Data up to ${o.latestReading ? esc(new Date(o.latestReading).toLocaleString('en-GB', { timeZone: o.zone })) : 'nothing yet'} (${esc(o.zone)})</span>
      </div>
      <h2 class="only-print">Monthly report ${esc(monthName)} · meter ${esc(o.meterId)}</h2>
      ${o.current ? `<div class="card now" id="card-now"><h3>Now <span class="note">(${esc(clock(o.current.time, o.zone))}, <a href="${esc(hashOf('live', r.meter, {}))}">live</a>)</span></h3>
        <div class="value ${o.current.power >= 0 ? 'import' : 'export'}" data-figure="current-power" data-watts="${o.current.power}">${esc(flowOf(o.current.power))}</div></div>` : ''}
      <div class="grid">
        <div class="card" id="card-today">
          <h3>${esc(dayName(o.today.from, o.zone))}${o.latestReading && Date.parse(o.latestReading) < Date.parse(o.today.from) + 86400000 && Date.parse(o.today.to) === Date.parse(o.latestReading) ? ' (so far)' : ''}</h3>
          <div class="figures">${figure('import', 'Imported', o.today.importKWh, 'today-import')}${figure('export', 'Exported', o.today.exportKWh, 'today-export')}</div>
          <p class="compare">vs. ${esc(dayName(o.sameDayLastWeek.from, o.zone))}: <b>${change(o.today.importKWh, o.sameDayLastWeek.importKWh)}</b> import (${kwh(o.sameDayLastWeek.importKWh)})</p>
          <p class="compare">Cost <b>${money(o.today.cost.import, cur)}</b>, feed-in ${money(o.today.cost.export, cur)}</p>
          ${missing(o.today)}
        </div>
        <div class="card" id="card-month">
          <h3>${esc(monthName)} so far</h3>
          <div class="figures">${figure('import', 'Imported', o.month.importKWh, 'month-import')}${figure('export', 'Exported', o.month.exportKWh, 'month-export')}</div>
          <p class="compare">vs. same days last month: <b>${change(o.month.importKWh, o.lastMonth.importKWh)}</b> (${kwh(o.lastMonth.importKWh)})</p>
          <p class="compare">vs. last year: <b>${change(o.month.importKWh, o.lastYear.importKWh)}</b> (${kwh(o.lastYear.importKWh)})</p>
          ${missing(o.month)}
        </div>
        <div class="card" id="card-cost">
          <h3>Cost this month</h3>
          <div class="figures">
            <div class="figure"><div class="label">Import</div><div class="value" data-figure="month-cost">${money(o.month.cost.import, cur)}</div></div>
            <div class="figure"><div class="label">Feed-in credit</div><div class="value export">${money(o.month.cost.export, cur)}</div></div>
          </div>
          <p class="compare">Net <b>${money(o.month.cost.net, cur)}</b> at ${o.tariff.kind === 'flat' ? `a flat ${money(o.tariff.importPrice, cur)}/kWh` : 'time-of-use prices'}; feed-in ${money(o.tariff.exportPrice, cur)}/kWh</p>
        </div>
      </div>
      <div class="card" id="report">
        <h2 class="no-print">Monthly report: ${esc(monthName)}</h2>
        <table>
          <thead><tr><th>Day</th><th>Import kWh</th><th>Export kWh</th><th>Missing ¼ h</th></tr></thead>
          <tbody>${rows}</tbody>
          <tfoot><tr><th>Total</th><th data-figure="report-import">${nf.format(o.month.importKWh)}</th><th>${nf.format(o.month.exportKWh)}</th><th>${o.month.missing || ''}</th></tr></tfoot>
        </table>
        <p class="note">Each figure is the sum of the meter's quarter-hour consumption (register differences); quarter-hours without a reading are left out, nothing is estimated.</p>
        <p class="no-print"><button type="button" id="print">Print monthly report</button></p>
        <p class="downloads"><a href="#" data-csv="${esc(meterPath(r.meter, 'history') + `?step=1d&date=${o.date}&format=csv`)}" data-name="${esc(r.meter)}-days.csv">CSV: daily values (year)</a>
          <a href="#" data-csv="${esc(meterPath(r.meter, 'profile') + `?date=${o.date}&days=7&format=csv`)}" data-name="${esc(r.meter)}-quarter-hours.csv">CSV: quarter-hours (week)</a></p>
      </div>
      <div class="card" id="alerts"><h2>Alerts, last seven days</h2><ul id="alert-list"><li class="note">Loading…</li></ul>
        ${meter ? alertForm() : ''}
      </div>
      ${meter ? tariffForm(meter.householdId) : ''}`;
    $('ov-date').addEventListener('change', (ev) => (location.hash = hashOf('overview', r.meter, { date: ev.target.value })));
    $('print').addEventListener('click', () => window.print());
    wireDownloads();
    await fillAlerts(r, o.date, meter);
    if (meter) await fillTariff(meter.householdId, r);
  }

  function alertForm() {
    return `<form id="alert-form" class="no-print">
      <div class="controls">
        <label>Night base load above <input name="baseLoadW" type="number" min="1" max="100000" step="1" size="6"> W</label>
        <label>Quarter-hour peak above <input name="peakKW" type="number" min="0.1" max="1000" step="0.1" size="5"> kW</label>
        <label>No data for <input name="noDataHours" type="number" min="1" max="720" step="1" size="4"> h</label>
        <button type="submit">Save alerts</button> <span class="note" id="alert-status" role="status"></span>
      </div>
      <p class="note">Leave a field empty to turn that alert off.</p>
    </form>`;
  }

  async function fillAlerts(r, date, meter) {
    const a = await api(meterPath(r.meter, 'alerts') + `?date=${encodeURIComponent(date)}`);
    const list = $('alert-list');
    const on = Object.values(a.settings).some((v) => v !== null);
    list.innerHTML = a.alerts.length
      ? a.alerts.map((x) => `<li class="alert-${esc(x.kind)}" data-kind="${esc(x.kind)}">${esc(x.message)}</li>`).join('')
      : `<li class="note">${on ? 'None: every threshold held.' : 'No thresholds set.'}</li>`;
    if (!meter) return;
    const form = $('alert-form');
    for (const k of ['baseLoadW', 'peakKW', 'noDataHours']) form[k].value = a.settings[k] ?? '';
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = {};
      for (const k of ['baseLoadW', 'peakKW', 'noDataHours']) body[k] = form[k].value === '' ? null : Number(form[k].value);
      try {
        await api(`/api/v1/households/${encodeURIComponent(meter.householdId)}/alert-settings`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        $('alert-status').textContent = 'Saved.';
        await route();
      } catch (e) {
        $('alert-status').textContent = e.message;
      }
    });
  }

  function tariffForm() {
    return `<div class="card no-print" id="tariff">
      <h2>Tariff</h2>
      <form id="tariff-form">
        <div class="controls">
          <label>Kind <select name="kind"><option value="flat">Flat</option><option value="tou">Time of use</option></select></label>
          <label>Currency <input name="currency" size="3" maxlength="3" pattern="[A-Z]{3}"></label>
          <label>Import per kWh <input name="importPrice" type="number" step="0.0001" min="0" max="100" required></label>
          <label>Feed-in per kWh <input name="exportPrice" type="number" step="0.0001" min="0" max="100"></label>
        </div>
        <div class="tariff-periods" id="periods">
          ${[0, 1, 2].map((i) => `<div class="controls period"><span class="note">Period ${i + 1}</span><label>from <input name="from${i}" type="time"></label><label>to <input name="to${i}" type="time"></label><label>price <input name="price${i}" type="number" step="0.0001" min="0" max="100"></label></div>`).join('')}
        </div>
        <button type="submit">Save tariff</button> <span class="note" id="tariff-status" role="status"></span>
      </form>
    </div>`;
  }

  async function fillTariff(householdId, r) {
    const form = $('tariff-form');
    const t = (await api(`/api/v1/households/${encodeURIComponent(householdId)}/tariff`)).tariff;
    form.kind.value = t.kind;
    form.currency.value = t.currency;
    form.importPrice.value = t.importPrice;
    form.exportPrice.value = t.exportPrice;
    (t.periods || []).slice(0, 3).forEach((p, i) => {
      form[`from${i}`].value = p.from;
      form[`to${i}`].value = p.to;
      form[`price${i}`].value = p.price;
    });
    const periods = () => ($('periods').hidden = form.kind.value !== 'tou');
    form.kind.addEventListener('change', periods);
    periods();
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const body = { kind: form.kind.value, currency: form.currency.value || 'EUR', importPrice: Number(form.importPrice.value), exportPrice: Number(form.exportPrice.value || 0), periods: [] };
      if (body.kind === 'tou') {
        for (let i = 0; i < 3; i++) {
          if (form[`from${i}`].value && form[`to${i}`].value && form[`price${i}`].value !== '') body.periods.push({ from: form[`from${i}`].value, to: form[`to${i}`].value, price: Number(form[`price${i}`].value) });
        }
      }
      try {
        await api(`/api/v1/households/${encodeURIComponent(householdId)}/tariff`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        $('tariff-status').textContent = 'Saved.';
        await route();
      } catch (e) {
        $('tariff-status').textContent = e.message;
      }
    });
  }

  function wireDownloads() {
    for (const a of view.querySelectorAll('a[data-csv]')) {
      a.addEventListener('click', (ev) => {
        ev.preventDefault();
        download(a.dataset.csv, a.dataset.name);
      });
    }
  }

  // ---- charts ----

  function size(el) {
    const w = Math.max(280, el.clientWidth);
    return { width: w, height: Math.round(Math.min(420, Math.max(240, w * 0.5))) };
  }

  /**
   * Import up, export down, as bars over each interval; intervals without a
   * value stay empty and are shaded, so a gap reads as a gap and not as zero.
   */
  function barChart(el, d, { step, zone, unitLabel, rangeEl, lines = [] }) {
    const half = step / 2;
    const x = d.t.map((t) => t + half);
    const exp = d.export.map((v) => (v === null ? null : -v));
    const bars = uPlot.paths.bars({ size: [0.9, 60], align: 0 });
    const gaps = d.t.filter((_, i) => d.import[i] === null || d.export[i] === null);
    const fmt = (v) => (v === null || v === undefined ? '–' : `${nf.format(Math.abs(v))} kWh`);
    // Local times of the household's zone, 24-hour: a time within a day, the date at midnight (or for daily bars), the month for monthly ones.
    const parts = (ts) => Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ts * 1000)).map((p) => [p.type, p.value]));
    const tick = (ts) => {
      const p = parts(ts);
      if (step > 86400) return `${p.month} ${p.year}`;
      if (step === 86400 || (p.hour === '00' && p.minute === '00')) return `${p.day} ${p.month}`;
      return `${p.hour}:${p.minute}`;
    };
    const label = (ts) => {
      const p = parts(ts);
      return step > 86400 ? `${p.month} ${p.year}` : step === 86400 ? `${p.day} ${p.month} ${p.year}` : `${p.day} ${p.month} ${p.hour}:${p.minute}`;
    };
    const opts = {
      ...size(el),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
      cursor: { drag: { x: true, y: false, setScale: true } },
      scales: { x: { time: true } },
      series: [
        { label: step > 86400 ? 'Month' : step === 86400 ? 'Day' : 'Quarter-hour', value: (_u, v) => (v === null || v === undefined ? '–' : label(v - half)) },
        { label: 'Import', stroke: '#d9480f', fill: 'rgba(217,72,15,0.75)', paths: bars, points: { show: false }, value: (_u, v) => fmt(v) },
        { label: 'Export', stroke: '#2b8a3e', fill: 'rgba(43,138,62,0.75)', paths: bars, points: { show: false }, value: (_u, v) => fmt(v) },
        // Further figures of the same intervals (PV generation, self-consumption) as lines over the bars, broken at gaps.
        ...lines.map((l) => ({ label: l.label, stroke: l.stroke, width: 2, dash: l.dash, points: { show: step > 86400 }, value: (_u, v) => fmt(v) })),
      ],
      axes: [
        { values: (_u, ticks) => ticks.map(tick) },
        // Whole numbers once the scale is large: narrow labels leave room for the axis title on a phone.
        { label: unitLabel, size: 64, values: (u, ticks) => ticks.map((v) => (Math.max(Math.abs(u.scales.y.min), Math.abs(u.scales.y.max)) >= 20 ? nf0.format(Math.abs(v)) : nf.format(Math.abs(v)))) },
      ],
      hooks: {
        // The range shown, in words: what a zoom changed.
        setScale: [
          (u, key) => {
            if (key !== 'x' || !rangeEl) return;
            const { min, max } = u.scales.x;
            // Snapped to whole intervals (bars are drawn at their middles).
            const n = d.t.length;
            const lo = Math.min(n - 1, Math.max(0, Math.floor((min - d.t[0]) / step)));
            const hi = Math.max(lo + 1, Math.min(n, Math.ceil((max - d.t[0]) / step)));
            rangeEl.textContent = `Showing ${label(d.t[lo])} – ${label(hi < n ? d.t[hi] : d.t[n - 1] + step)}`;
          },
        ],
        drawClear: [
          (u) => {
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = 'rgba(120,130,145,0.18)';
            for (const t of gaps) {
              const a = u.valToPos(t, 'x', true);
              const b = u.valToPos(t + step, 'x', true);
              if (b < u.bbox.left || a > u.bbox.left + u.bbox.width) continue;
              ctx.fillRect(Math.max(a, u.bbox.left), u.bbox.top, Math.min(b, u.bbox.left + u.bbox.width) - Math.max(a, u.bbox.left), u.bbox.height);
            }
            ctx.restore();
          },
        ],
      },
    };
    const chart = new uPlot(opts, [x, d.import, exp, ...lines.map((l) => l.values)], el);
    state.charts.push(chart);
    return chart;
  }

  const addDays = (date, n) => {
    const d = new Date(date + 'T00:00:00Z');
    d.setUTCDate(d.getUTCDate() + n);
    return d.toISOString().slice(0, 10);
  };

  // ---- load profile ----

  async function profile(r) {
    const date = r.params.get('date') || '';
    const days = r.params.get('days') === '7' ? '7' : '1';
    const p = await api(meterPath(r.meter, 'profile') + `?days=${days}` + (date ? `&date=${encodeURIComponent(date)}` : ''));
    view.innerHTML = `
      <div class="card">
        <div class="controls">
          <button type="button" class="plain" id="prev" aria-label="Earlier">◀</button>
          <label>From <input type="date" id="pf-date" value="${esc(p.date)}"></label>
          <button type="button" class="plain" id="next" aria-label="Later">▶</button>
          <label>Span <select id="pf-days"><option value="1">Day</option><option value="7">Week</option></select></label>
          <button type="button" class="plain" id="reset">Reset zoom</button>
        </div>
        <h2>Quarter-hours ${p.days === 7 ? `${esc(p.date)} to ${esc(addDays(p.date, 6))}` : esc(p.date)}</h2>
        <div class="figures">
          <div class="figure"><div class="label">Imported</div><div class="value import" data-figure="profile-import">${kwh(p.totals.importKWh)}</div></div>
          <div class="figure"><div class="label">Exported</div><div class="value export" data-figure="profile-export">${kwh(p.totals.exportKWh)}</div></div>
        </div>
        <p class="note" id="range" data-figure="range"></p>
        <div class="chart" id="chart"></div>
        <p class="legend-note">kWh per quarter-hour, import above zero, export below; shaded: no reading (${p.totals.missing} of ${p.totals.intervals}). Drag across the chart to zoom, double-click to zoom out. Times in ${esc(p.zone)}.</p>
        <p class="downloads"><a href="#" data-csv="${esc(meterPath(r.meter, 'profile') + `?date=${p.date}&days=${p.days}&format=csv`)}" data-name="${esc(r.meter)}-${esc(p.date)}-profile.csv">Download CSV</a></p>
      </div>`;
    $('pf-days').value = String(p.days);
    const go = (d, n) => (location.hash = hashOf('profile', r.meter, { date: d, days: n }));
    $('pf-date').addEventListener('change', (ev) => go(ev.target.value, p.days));
    $('pf-days').addEventListener('change', (ev) => go(p.date, ev.target.value));
    $('prev').addEventListener('click', () => go(addDays(p.date, -p.days), p.days));
    $('next').addEventListener('click', () => go(addDays(p.date, p.days), p.days));
    const chart = barChart($('chart'), p, { step: 900, zone: p.zone, unitLabel: 'kWh per ¼ h', rangeEl: $('range') });
    $('reset').addEventListener('click', () => chart.setScale('x', { min: chart.data[0][0] - 450, max: chart.data[0][chart.data[0].length - 1] + 450 }));
    wireDownloads();
  }

  // ---- history ----

  async function history(r) {
    const date = r.params.get('date') || '';
    const step = r.params.get('step') === '1mo' ? '1mo' : '1d';
    const h = await api(meterPath(r.meter, 'history') + `?step=${step}` + (date ? `&date=${encodeURIComponent(date)}` : ''));
    const widths = step === '1d' ? 86400 : 30.4 * 86400;
    const cell = (v) => `<td>${v === null || v === undefined ? '–' : nf.format(v)}</td>`;
    // Generation where the household has a PV meter (or this is one); self-consumption for its grid meter.
    const gen = h.generation || null;
    const own = h.selfConsumption || null;
    const g = h.generationTotals;
    const rows =
      step === '1mo'
        ? `<div class="table-scroll"><table id="months"><thead><tr><th>Month</th><th>Import kWh</th><th>Export kWh</th>${gen ? '<th>Generation kWh</th>' : ''}${own ? '<th>Self-consumed kWh</th><th>Share</th>' : ''}</tr></thead><tbody>${h.t
            .map(
              (t, i) =>
                `<tr><td>${esc(new Date(t * 1000 + 43200000 * 2).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: h.zone }))}</td>${cell(h.import[i])}${cell(h.export[i])}${gen ? cell(gen[i]) : ''}${
                  own ? `${cell(own[i])}<td>${own[i] === null || !gen[i] ? '–' : percent(own[i] / gen[i])}</td>` : ''
                }</tr>`,
            )
            .join('')}</tbody></table></div>`
        : '';
    const meter = state.meters.find((m) => m.id === r.meter);
    const pvFigures = g
      ? `<div class="figure"><div class="label">Generated (PV)</div><div class="value generation" data-figure="history-generation">${kwh(g.generationKWh)}</div></div>` +
        (own
          ? `<div class="figure"><div class="label">Self-consumed</div><div class="value self" data-figure="history-self-consumption">${kwh(g.selfConsumptionKWh)}</div></div>`
          : '')
      : '';
    const pvNote =
      g && own
        ? `<p class="compare">Self-consumption <b data-figure="history-self-consumption-share">${percent(g.selfConsumptionShare)}</b> of the generation; the PV covered <b data-figure="history-autarky">${percent(g.autarkyShare)}</b> of the household's use (self-consumed ÷ (self-consumed + imported)). Generation from ${esc(h.generationMeters.join(', '))}.</p>`
        : g
          ? '<p class="compare">This meter measures PV generation: its export is what the PV system delivered, its import the inverter\'s standby.</p>'
          : '';
    view.innerHTML = `
      <div class="card">
        <div class="controls">
          <label>Bars <select id="hi-step"><option value="1d">Days</option><option value="1mo">Months</option></select></label>
          <label>Up to <input type="date" id="hi-date" value="${esc(h.date)}"></label>
          <button type="button" class="plain" id="reset">Reset zoom</button>
          ${meter ? `<label>This meter measures <select id="hi-role"><option value="grid">the grid connection</option><option value="generation">PV generation</option></select></label> <span class="note" id="role-status" role="status"></span>` : ''}
        </div>
        <h2>${step === '1d' ? 'Daily' : 'Monthly'} import and export, ${esc(new Date(h.from).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: h.zone }))} – ${esc(new Date(Date.parse(h.to) - 1).toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: h.zone }))}</h2>
        <div class="figures">
          <div class="figure"><div class="label">Imported</div><div class="value import" data-figure="history-import">${kwh(h.totals.importKWh)}</div></div>
          <div class="figure"><div class="label">Exported</div><div class="value export" data-figure="history-export">${kwh(h.totals.exportKWh)}</div></div>
          ${pvFigures}
        </div>
        ${pvNote}
        <p class="note" id="range" data-figure="range"></p>
        <div class="chart" id="chart"></div>
        <p class="legend-note">kWh per ${step === '1d' ? 'day' : 'month'} from the meter's registers at local midnight, import above zero, export below; shaded: no reading at a boundary (${h.totals.missing} of ${h.totals.intervals}).${
          own ? ' Lines: the PV generation, and the self-consumption (generation minus export).' : gen ? ' The line: the PV generation.' : ''
        }</p>
        ${rows}
        <p class="downloads"><a href="#" data-csv="${esc(meterPath(r.meter, 'history') + `?step=${step}&date=${h.date}&format=csv`)}" data-name="${esc(r.meter)}-history-${step}.csv">Download CSV</a></p>
      </div>`;
    $('hi-step').value = step;
    $('hi-step').addEventListener('change', (ev) => (location.hash = hashOf('history', r.meter, { step: ev.target.value, date: h.date })));
    $('hi-date').addEventListener('change', (ev) => (location.hash = hashOf('history', r.meter, { step, date: ev.target.value })));
    if (meter) {
      $('hi-role').value = h.role;
      $('hi-role').addEventListener('change', async (ev) => {
        try {
          const saved = await api(meterPath(r.meter, 'role'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ role: ev.target.value }) });
          meter.role = saved.role;
          await route();
        } catch (e) {
          $('role-status').textContent = e.message;
        }
      });
    }
    const lines = [];
    if (gen) lines.push({ label: 'Generation', values: gen, stroke: '#e8a100' });
    if (own) lines.push({ label: 'Self-consumption', values: own, stroke: '#5f3dc4', dash: [6, 3] });
    // Months differ in length: bars are centred on each month's middle, as wide as the shortest allows.
    const chart = barChart($('chart'), h, { step: widths, zone: h.zone, unitLabel: step === '1d' ? 'kWh per day' : 'kWh per month', rangeEl: $('range'), lines });
    $('reset').addEventListener('click', () => chart.setScale('x', { min: chart.data[0][0] - widths, max: chart.data[0][chart.data[0].length - 1] + widths }));
    wireDownloads();
  }

  // ---- live ----

  const LIVE_POLL_MS = 2000;
  const PHASE_COLOURS = ['#1864ab', '#862e9c', '#e67700'];

  async function live(r) {
    const first = await api(meterPath(r.meter, 'live'));
    const kept = first.keptSeconds;
    const zone = first.zone;
    let values = first.values;
    const PHASES = [1, 2, 3];
    view.innerHTML = `
      <div class="card">
        <h2>Live power</h2>
        <div class="figures">
          <div class="figure"><div class="label">Now</div><div class="value" data-figure="live-power">–</div></div>
          <div class="figure"><div class="label">Measured at</div><div class="value small" data-figure="live-time">–</div></div>
        </div>
        <p class="note" id="live-status" role="status"></p>
        <div class="chart" id="chart"></div>
        <p class="legend-note">Active power in W as the meter measures it (TAF 14), the last ${Math.round(kept / 60)} minutes, import above zero, feed-in below; times in ${esc(zone)}. While this page is open the gateway pushes every few seconds, otherwise once a minute.</p>
        <table id="phases"></table>
      </div>`;
    const series = [{ label: 'Time', value: (_u, v) => (v === null || v === undefined ? '–' : clock(v * 1000, zone)) }, { label: 'Net', stroke: '#212529', width: 2, points: { show: false }, value: (_u, v) => (v === null || v === undefined ? '–' : `${nf0.format(v)} W`) }];
    // A line per phase, shown once the meter has sent that phase's power (not every meter does).
    for (const n of PHASES) series.push({ label: `L${n}`, show: false, stroke: PHASE_COLOURS[n - 1], width: 1, points: { show: false }, value: (_u, v) => (v === null || v === undefined ? '–' : `${nf0.format(v)} W`) });
    const el = $('chart');
    const chart = new uPlot(
      {
        ...size(el),
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), zone),
        // The window moves with the newest value: at most the kept minutes, at least one.
        scales: { x: { time: true, range: (_u, min, max) => [Math.max(max - kept, Math.min(min, max - 60)), max] } },
        series,
        axes: [{ values: (_u, ticks) => ticks.map((t) => clock(t * 1000, zone)) }, { label: 'W', size: 64, values: (_u, ticks) => ticks.map((v) => nf0.format(v)) }],
      },
      [[]].concat(series.slice(1).map(() => [])),
      el,
    );
    state.charts.push(chart);
    const draw = () => {
      const cut = Date.now() / 1000 - kept;
      values = values.filter((v) => Date.parse(v.time) / 1000 >= cut || v === values[values.length - 1]);
      const data = [values.map((v) => Date.parse(v.time) / 1000), values.map((v) => (typeof v.p === 'number' ? v.p : null))];
      for (const n of PHASES) data.push(values.map((v) => (typeof v[`p${n}`] === 'number' ? v[`p${n}`] : null)));
      chart.setData(data);
      PHASES.forEach((n, k) => {
        const has = data[2 + k].some((v) => v !== null);
        if (chart.series[2 + k].show !== has) chart.setSeries(2 + k, { show: has });
      });
      const newest = values[values.length - 1];
      const figure = view.querySelector('[data-figure="live-power"]');
      view.dataset.points = String(values.length);
      // No chart of nothing: an empty time axis says less than the sentence.
      if (el.hidden !== !newest) {
        el.hidden = !newest;
        if (newest) chart.setSize(size(el));
      }
      if (!newest) {
        $('live-status').textContent = `No live values in the last ${Math.round(kept / 60)} minutes: the gateway is offline, its live channel is off (portal, Backend step), or it cannot reach the backend. Waiting…`;
        return;
      }
      figure.textContent = typeof newest.p === 'number' ? flowOf(newest.p) : '–';
      figure.className = `value ${newest.p >= 0 ? 'import' : 'export'}`;
      figure.dataset.watts = String(newest.p);
      view.querySelector('[data-figure="live-time"]').textContent = clock(newest.time, zone);
      $('live-status').textContent = `${values.length} values; newest ${Math.max(0, Math.round((Date.now() - Date.parse(newest.time)) / 1000))} s old.`;
      const row = (label, key, unit, digits) => `<tr><th>${label}</th>${[1, 2, 3].map((n) => `<td>${typeof newest[`${key}${n}`] === 'number' ? `${newest[`${key}${n}`].toFixed(digits)} ${unit}` : '–'}</td>`).join('')}</tr>`;
      const any = ['u', 'i', 'p'].some((k) => [1, 2, 3].some((n) => typeof newest[`${k}${n}`] === 'number'));
      $('phases').innerHTML = any ? `<thead><tr><th></th><th>L1</th><th>L2</th><th>L3</th></tr></thead><tbody>${row('Voltage', 'u', 'V', 1)}${row('Current', 'i', 'A', 2)}${row('Power', 'p', 'W', 0)}</tbody>` : '';
    };
    draw();
    // Polls for what came since the newest value shown; a failed poll is tried again, the view stays.
    const poll = async () => {
      const newest = values[values.length - 1];
      try {
        const next = await api(meterPath(r.meter, 'live') + (newest ? `?since=${encodeURIComponent(newest.time)}` : ''));
        if (state.timer === null) return;
        values = values.concat(next.values);
        draw();
      } catch (e) {
        if (e.status === 401) return;
        $('live-status').textContent = `Could not reach the backend (${e.message}); trying again.`;
      }
      if (state.timer !== null) state.timer = setTimeout(poll, LIVE_POLL_MS);
    };
    state.timer = setTimeout(poll, LIVE_POLL_MS);
  }

  // ---- devices (admin) ----

  async function devices() {
    const [{ devices: list }, { households }] = await Promise.all([api('/api/v1/admin/devices'), api('/api/v1/admin/households')]);
    const when = (ms) => (ms === null || ms === undefined ? '–' : new Date(ms).toLocaleString('en-GB', { timeZone: 'UTC' }) + ' UTC');
    const chain = (c) => (c.status === 'ok' ? `ok (${c.events} events)` : c.status === 'broken' ? `BROKEN at seq ${c.firstBreak ? c.firstBreak.seq : '?'} (${c.breaks} break${c.breaks === 1 ? '' : 's'})` : 'no events');
    const names = new Map(households.map((h) => [h.id, h.name]));
    view.innerHTML = `
      <div class="card">
        <h2>Devices</h2>
        <div style="overflow-x:auto"><table id="devices">
          <thead><tr><th>Device</th><th>Household</th><th>Auth</th><th>Firmware</th><th>Last update</th><th>Last upload</th><th>Entries stored</th><th>Backlog</th><th>Event log</th><th>State</th><th></th></tr></thead>
          <tbody>${list
            .map(
              (d) => `<tr data-device="${esc(d.id)}"><td>${esc(d.id)}</td><td>${esc(names.get(d.householdId) || d.householdId)}</td><td>${esc(d.auth)}</td><td data-col="firmware">${esc(d.firmware || '–')}</td><td data-col="update" title="${d.update && d.update.time ? esc(d.update.time) : ''}">${esc(d.update ? d.update.message : '–')}</td><td>${esc(when(d.lastSeen))}</td><td data-col="stored">${d.lastSeq}</td>
                <td data-col="backlog" title="${d.reportedAt ? 'as the device said at ' + esc(when(Date.parse(d.reportedAt))) : 'not reported yet'}">${d.backlog === null ? '–' : d.backlog}</td>
                <td class="${d.eventChain.status === 'broken' ? 'error' : ''}">${esc(chain(d.eventChain))}</td><td data-col="state">${d.revokedAt ? 'revoked ' + esc(when(d.revokedAt)) : 'active'}</td>
                <td>${d.revokedAt ? '' : `<button type="button" class="plain" data-revoke="${esc(d.id)}">Revoke</button>`}</td></tr>`,
            )
            .join('')}</tbody>
        </table></div>
        <p class="note">"Entries stored" is the highest reading-log sequence number the backend holds; "Backlog" the entries the device holds that the backend has not acknowledged, and "Firmware" its version, as the device said with its last delivery or live push (hover for when). "Last update" is the device's newest firmware-update event (docs/ota.md).</p>
      </div>
      <div class="card">
        <h2>Enrol a device</h2>
        <form id="enrol">
          <div class="controls">
            <label>Household <select name="householdId">${households.map((h) => `<option value="${esc(h.id)}">${esc(h.name)} (${esc(h.id)})</option>`).join('')}</select></label>
            <label>Credential <select name="auth"><option value="certificate">Client certificate</option><option value="token">Token</option></select></label>
            <button type="submit">Enrol and download the bundle</button>
          </div>
          <p class="note">The bundle holds the device's key or token: it is shown nowhere else and cannot be fetched again.</p>
        </form>
      </div>`;
    for (const b of view.querySelectorAll('button[data-revoke]')) {
      b.addEventListener('click', async () => {
        if (!confirm(`Revoke ${b.dataset.revoke}? It can no longer deliver.`)) return;
        try {
          await api(`/api/v1/admin/devices/${encodeURIComponent(b.dataset.revoke)}/revoke`, { method: 'POST' });
          await route();
        } catch (e) {
          showError(e);
        }
      });
    }
    $('enrol').addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = ev.target;
      try {
        const bundle = await api('/api/v1/admin/devices', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ householdId: f.householdId.value, auth: f.auth.value }) });
        const a = document.createElement('a');
        a.href = URL.createObjectURL(new Blob([JSON.stringify(bundle, null, 2)], { type: 'application/json' }));
        a.download = `${bundle.deviceId}-bundle.json`;
        document.body.appendChild(a);
        a.click();
        a.remove();
        await route();
      } catch (e) {
        showError(e);
      }
    });
  }

  start();
})();

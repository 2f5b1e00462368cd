// The SMGW.Lite portal: one page, views by URL hash, plain JS. The session
// cookie is HttpOnly; the CSRF token lives only in this page's memory.
'use strict';
var csrf = null, cfg = null, timers = [], step = 0, pwSet = false;
var STEPS = ['password', 'wifi', 'meter', 'keys', 'backend', 'taf', 'mqtt', 'finish'];
var NAMES = ['Password', 'Wi-Fi', 'Meter', 'Keys', 'Backend', 'Readings', 'MQTT', 'Finish'];
function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) e.textContent = text; if (cls) e.className = cls; return e; }
function say(text, bad) { var m = $('msg'); m.textContent = text || ''; m.className = 'msg' + (bad ? ' err' : ''); m.hidden = !text; }

function api(method, path, body) {
  // Bytes (a firmware piece) go as they are; anything else as JSON.
  var raw = body instanceof Uint8Array;
  var h = { 'content-type': raw ? 'application/octet-stream' : 'application/json' };
  if (csrf) h['x-csrf-token'] = csrf;
  return fetch(path, { method: method, headers: h, body: raw ? body : body ? JSON.stringify(body) : undefined, credentials: 'same-origin' }).then(function (r) {
    return r.text().then(function (t) {
      var j = null;
      try { j = t ? JSON.parse(t) : null; } catch (e) { j = null; }
      if (r.status === 401 && path !== '/api/login') { csrf = null; show('login'); }
      if (!r.ok) { var err = new Error((j && j.error) || ('HTTP ' + r.status)); err.status = r.status; err.body = j; throw err; }
      return j;
    });
  });
}
function fail(e) { say(e.message, true); }
function formData(f) {
  var o = {};
  for (var i = 0; i < f.elements.length; i++) {
    var x = f.elements[i];
    if (!x.name) continue;
    o[x.name] = x.type === 'checkbox' ? x.checked : x.value;
  }
  return o;
}
function clearTimers() { timers.forEach(clearInterval); timers = []; }
function every(ms, f) { f(); timers.push(setInterval(f, ms)); }

function show(view) {
  clearTimers();
  ['login', 'restart', 'setup', 'status', 'actions', 'events'].forEach(function (v) { $('v-' + v).hidden = v !== view; });
  $('nav').hidden = !csrf;
  var links = $('nav').querySelectorAll('a');
  for (var i = 0; i < links.length; i++) links[i].className = links[i].getAttribute('href') === '#' + view ? 'on' : '';
  if (view === 'setup') loadSetup();
  if (view === 'status') every(3000, status);
  if (view === 'events') events();
}
function route() {
  var v = location.hash.slice(1) || 'status';
  if (!csrf) v = 'login';
  else if (!pwSet) v = 'setup';
  say('');
  show(v);
}

// ---- login and restart ----
function session() {
  return api('GET', '/api/session').then(function (s) {
    csrf = s.loggedIn ? s.csrf : null;
    pwSet = s.passwordSet;
    $('login-hint').textContent = s.passwordSet ? '' : 'Not set up yet: log in with the initial password (SMGW.Lite\'s setup password, in the README or printed by the simulator).';
    if (!s.configured && csrf && !location.hash) location.hash = '#setup';
    return s;
  });
}
$('f-login').onsubmit = function (ev) {
  ev.preventDefault();
  api('POST', '/api/login', { password: $('login-password').value }).then(function (r) {
    csrf = r.csrf;
    pwSet = r.passwordSet;
    $('login-password').value = '';
    if (!r.configured) location.hash = '#setup';
    route();
  }).catch(fail);
};
$('logout').onclick = function (ev) {
  ev.preventDefault();
  api('POST', '/api/logout').then(function () { csrf = null; route(); }).catch(fail);
};
// After a restart the page asked for, the device's answer left a one-time ticket (an HttpOnly cookie only the
// resume route gets): once the device is back, the page logs in again with it. Without one (a factory reset,
// or the ticket too old) it shows the login form and says why.
function restarting(reset) {
  csrf = null;
  show('restart');
  $('restart-text').textContent = reset ? 'The gateway is erasing its settings, keys and readings, then starts again unconfigured: log in with the initial password when it is back.'
    : 'The gateway is restarting with the new settings. This page logs in again by itself when it is back.';
  // On the setup network the phone loses the gateway: once set up, it closes SMGW.Lite and joins the home Wi-Fi.
  $('restart-ap').hidden = reset || location.hostname !== '192.168.4.1';
  var t0 = Date.now();
  setTimeout(function poll() {
    fetch('/api/session', { cache: 'no-store' }).then(function (r) { if (!r.ok) throw 0; }).then(function () {
      return api('POST', '/api/session/resume').then(function (r) {
        csrf = r.csrf;
        pwSet = r.passwordSet;
        location.hash = '#status';
        route();
      }, function () {
        return session().then(function () { show('login'); say(reset ? 'Reset done: log in with the initial password.' : 'The gateway is back: log in again.'); });
      });
    }).catch(function () {
      $('restart-hint').textContent = 'Waiting ' + Math.round((Date.now() - t0) / 1000) + ' s...';
      setTimeout(poll, 1000);
    });
  }, 2000);
}

// ---- setup ----
function loadSetup() {
  api('GET', '/api/config').then(function (c) {
    cfg = c;
    var s = c.settings, set = c.secretsSet;
    $('ap-set').textContent = set.accessPointPassword ? ' It is set: leave empty to keep it.' : '';
    $('wifi-ssid').value = s.wifi.ssid;
    $('wifi-set').textContent = set.wifiPassword ? 'A password is set for this network: leave empty to keep it.' : '';
    meterForm(s.meter);
    // A detection still running (the page was reloaded): follow it, and keep Save waiting.
    api('GET', '/api/meter/detect').then(function (d) { if (d.state === 'running' && !detecting) detected(d); }).catch(function () {});
    tag('key-set', set.meterKey);
    tag('auth-set', set.authKey);
    $('backend-now').textContent = s.uplink.url ? 'Enrolled: ' + s.uplink.deviceId + ' at ' + s.uplink.url + ' (' + s.uplink.auth + ')' : 'Not enrolled yet.';
    $('b-live').value = s.uplink.live;
    $('t-period').value = String(s.taf.period);
    $('t-live').value = s.taf.live;
    var z = $('t-zone');
    if (!z.options.length) c.zones.forEach(function (n) { z.appendChild(el('option', n)); });
    z.value = s.zone;
    var m = c.mqtt;
    $('q-enabled').checked = !!m;
    if (m) { $('q-host').value = m.host; $('q-port').value = m.port; $('q-user').value = m.user; $('q-topic').value = m.topic; $('q-client').value = m.clientId || ''; }
    $('q-tls').checked = m ? m.tls : false;
    $('q-omdp').checked = m ? m.omdp : true;
    $('q-live').checked = m ? m.live : true;
    $('q-ha').checked = m ? m.homeAssistant : true;
    tag('q-creds', c.secretsSet.mqttCredentials);
    mqttFields();
    goStep(pwSet ? 1 : 0);
  }).catch(fail);
}
function tag(id, set) { var t = $(id); t.textContent = set ? 'set' : 'not set'; t.className = 'tag' + (set ? ' set' : ''); }
function goStep(n) {
  step = n;
  $('step-of').textContent = (n + 1) + ' of ' + STEPS.length;
  var ol = $('steps');
  ol.textContent = '';
  STEPS.forEach(function (name, i) {
    $('s-' + name).className = 'step' + (i === n ? ' on' : '');
    var li = el('li', NAMES[i], i === n ? 'on' : i < n ? 'done' : '');
    if (pwSet) li.onclick = function () { goStep(i); };
    ol.appendChild(li);
  });
  $('back').hidden = n < 2;
  if (STEPS[n] === 'finish') summary();
  window.scrollTo(0, 0);
}
$('back').onclick = function () { say(''); goStep(Math.max(1, step - 1)); };
var lastError = null;
function saveStep(name, path, body, then) {
  say('');
  lastError = null;
  return api('POST', path, body).then(function (r) {
    if (then) then(r);
    say(NAMES[STEPS.indexOf(name)] + ': saved');
    goStep(STEPS.indexOf(name) + 1);
    return r;
  }).catch(function (e) { lastError = e; fail(e); });
}
$('s-password').onsubmit = function (ev) {
  ev.preventDefault();
  saveStep('password', '/api/setup/password', formData(this), function (r) { csrf = r.csrf; pwSet = true; }).then(function () { ev.target.reset(); loadSetup(); });
};

$('scan').onclick = function () {
  var b = this;
  b.disabled = true;
  b.textContent = 'Scanning...';
  api('POST', '/api/wifi/scan').then(function poll() {
    return api('GET', '/api/wifi/scan').then(function (s) {
      if (s.state === 'scanning') return new Promise(function (ok) { setTimeout(ok, 700); }).then(poll);
      var ul = $('networks');
      ul.textContent = '';
      s.networks.forEach(function (n) {
        var li = el('li');
        li.appendChild(el('span', n.ssid));
        li.appendChild(el('span', (n.secure ? 'WPA ' : 'open ') + n.rssi + ' dBm', 'hint'));
        li.onclick = function () {
          $('wifi-ssid').value = n.ssid;
          var all = ul.children;
          for (var i = 0; i < all.length; i++) all[i].className = '';
          li.className = 'on';
          $('wifi-password').focus();
        };
        ul.appendChild(li);
      });
    });
  }).catch(fail).then(function () { b.disabled = false; b.textContent = 'Scan again'; });
};
$('s-wifi').onsubmit = function (ev) {
  ev.preventDefault();
  saveStep('wifi', '/api/setup/wifi', formData(this)).then(function () { $('wifi-password').value = ''; });
};

function meterForm(m) {
  $('m-protocol').value = m.protocol;
  $('m-connector').value = m.connector;
  $('m-baud').value = String(m.line.baud);
  $('m-dataBits').value = String(m.line.dataBits);
  $('m-parity').value = m.line.parity;
  $('m-stopBits').value = String(m.line.stopBits);
  $('m-inverted').checked = m.line.inverted;
}
var DEFAULTS = {
  sml: ['optical', 9600, 8, 'none', false], d0: ['optical', 9600, 7, 'even', false],
  dlms: ['mbus', 2400, 8, 'even', false], dsmr: ['optical', 115200, 8, 'none', true]
};
$('m-protocol').onchange = function () {
  var d = DEFAULTS[this.value];
  meterForm({ protocol: this.value, connector: d[0], line: { baud: d[1], dataBits: d[2], parity: d[3], stopBits: 1, inverted: d[4] } });
};
// Auto-detect: while it listens, Save waits (it would store what the form showed before, the defaults as often
// as not); the button stops it. A meter no telegram was seen from is saved only after "Save anyway".
var detecting = false, unseenOk = false;
function meterSave(text) { var b = $('s-meter').querySelector('button:not([type=button])'); b.disabled = detecting; b.textContent = text || 'Save and continue'; }
function detected(s) {
  var out = $('detect-state');
  detecting = s.state === 'running';
  $('detect').textContent = detecting ? 'Stop auto-detect' : 'Auto-detect';
  meterSave();
  unseenOk = false;
  if (detecting) {
    out.textContent = 'Trying ' + s.step + ' of ' + s.of + ': ' + s.trying + '. Save waits until it is done.';
    out.className = 'hint';
    return new Promise(function (ok) { setTimeout(ok, 1000); }).then(function () { return api('GET', '/api/meter/detect'); }).then(detected);
  }
  if (s.state === 'idle') return;
  out.textContent = s.message;
  out.className = 'msg' + (s.state === 'found' ? '' : ' err');
  if (s.state === 'found') meterForm(s.meter);
}
$('detect').onclick = function () {
  var b = this;
  b.disabled = true;
  if (detecting) {
    api('DELETE', '/api/meter/detect').catch(fail).then(function () { b.disabled = false; });
    return;
  }
  say('');
  $('detect-state').textContent = 'Listening...';
  api('POST', '/api/meter/detect').then(function (s) { b.disabled = false; return detected(s); }).catch(fail).then(function () { b.disabled = false; });
};
$('s-meter').onchange = function (ev) { if (ev.target.id !== 'detect') { unseenOk = false; meterSave(); } };
$('s-meter').onsubmit = function (ev) {
  ev.preventDefault();
  if (detecting) return;
  var f = formData(this);
  var body = {
    protocol: f.protocol, connector: f.connector, transport: 'auto',
    line: { baud: +f.baud, dataBits: +f.dataBits, parity: f.parity, stopBits: +f.stopBits, inverted: f.inverted }
  };
  if (unseenOk) body.unseen = true;
  saveStep('meter', '/api/setup/meter', body, function () { unseenOk = false; meterSave(); }).then(function (r) {
    if (r) return;
    // Refused because no telegram was seen with these settings: the page says so, and the next Save stores them anyway.
    if (lastError && lastError.body && lastError.body.unseen) { unseenOk = true; meterSave('Save anyway'); }
  });
};
$('s-keys').onsubmit = function (ev) {
  ev.preventDefault();
  var f = this;
  // Write-only: the keys leave the page and are never shown again.
  saveStep('keys', '/api/setup/keys', formData(f), function (r) {
    f.reset();
    tag('key-set', r.secretsSet.meterKey);
    tag('auth-set', r.secretsSet.authKey);
  });
};
$('bundle-file').onchange = function () {
  var file = this.files[0];
  if (file) file.text().then(function (t) { $('bundle').value = t; });
};
$('s-backend').onsubmit = function (ev) {
  ev.preventDefault();
  var body = { bundle: $('bundle').value.trim() };
  if ($('b-live').value !== '') body.live = +$('b-live').value;
  saveStep('backend', '/api/setup/backend', body, function (r) {
    $('bundle').value = '';
    $('bundle-file').value = '';
    $('b-live').value = r.uplink.live;
    $('backend-now').textContent = r.uplink.url ? 'Enrolled: ' + r.uplink.deviceId + ' at ' + r.uplink.url : '';
    cfg.settings.uplink = r.uplink;
  });
};
document.querySelector('[data-skip]').onclick = function () { say(''); goStep(STEPS.indexOf('backend') + 1); };
$('s-taf').onsubmit = function (ev) {
  ev.preventDefault();
  var f = formData(this);
  saveStep('taf', '/api/setup/taf', { period: +f.period, live: +f.live, zone: f.zone }, function (r) { cfg.settings.taf = r.taf; cfg.settings.zone = r.zone; });
};
function mqttFields() { $('mqtt-fields').hidden = !$('q-enabled').checked; }
$('q-enabled').onchange = mqttFields;
$('s-mqtt').onsubmit = function (ev) {
  ev.preventDefault();
  var f = formData(this);
  if (!f.enabled) f = { enabled: false };
  saveStep('mqtt', '/api/setup/mqtt', f, function (r) { cfg.mqtt = r.mqtt; });
};
function summary() {
  api('GET', '/api/config').then(function (c) {
    var s = c.settings, set = c.secretsSet, dl = $('summary');
    dl.textContent = '';
    [['Wi-Fi', s.wifi.ssid + (set.wifiPassword ? ' (password set)' : '')], ['Meter', c.meterDescription],
      ['Decryption key', set.meterKey ? 'set' : 'not set'], ['Authentication key', set.authKey ? 'set' : 'not set'],
      ['Backend', s.uplink.url ? s.uplink.url + ' as ' + s.uplink.deviceId : 'none'],
      ['Readings', 'every ' + s.taf.period + ' min, live every ' + s.taf.live + ' s, ' + s.zone],
      ['MQTT', c.mqtt ? c.mqtt.host + ':' + c.mqtt.port : 'off']].forEach(function (p) { dl.appendChild(el('dt', p[0])); dl.appendChild(el('dd', p[1])); });
  }).catch(fail);
}
$('s-finish').onsubmit = function (ev) {
  ev.preventDefault();
  api('POST', '/api/setup/finish').then(function () { restarting(false); }).catch(fail);
};

// ---- status ----
function age(ms) { return ms < 0 ? 'never' : ms < 90000 ? Math.round(ms / 1000) + ' s ago' : Math.round(ms / 60000) + ' min ago'; }
// TAF 14 channels: net power (import minus export) in W, per phase; voltages in V; currents in A.
var CHANNELS = { p: 'Power', p1: 'Power L1', p2: 'Power L2', p3: 'Power L3', u1: 'Voltage L1', u2: 'Voltage L2', u3: 'Voltage L3', i1: 'Current L1', i2: 'Current L2', i3: 'Current L3' };
function fmt(k, v) { return (Math.round(v * 10) / 10).toLocaleString('en') + ' ' + (k[0] === 'p' ? 'W' : k[0] === 'u' ? 'V' : 'A'); }
function kb(n) { return n > 10485760 ? Math.round(n / 1048576) + ' MB' : Math.round(n / 1024) + ' KB'; }
function status() {
  api('GET', '/api/status').then(function (s) {
    var d = $('diag');
    d.textContent = s.diagnosis.message;
    d.className = 'diag ' + s.diagnosis.level;
    $('banner').hidden = !s.portal.restartNeeded;
    var L = s.line, log = s.log, u = s.uplink;
    var facts = [
      ['Meter', (s.latest && s.latest.meterId || 'unknown') + ' \u00b7 ' + s.meterDescription],
      ['Last telegram', L.lastTelegramAt < 0 ? 'none yet' : age(s.uptime - L.lastTelegramAt)],
      ['Telegrams', L.readings + ' decoded, ' + (L.telegrams - L.readings) + ' rejected, ' + L.bytes + ' bytes'],
      ['Reading log', log ? log.entries + ' entries, ' + log.liveSectors + ' of ' + log.sectors + ' sectors (' + Math.round(100 * log.liveSectors / log.sectors) + '%)' : '-'],
      ['Oldest reading', log && log.oldest ? new Date(log.oldest).toISOString().replace('.000', '') : '-'],
      ['Last upload', !u ? 'not enrolled' : (u.lastSuccess || 'none yet') + (u.lastError ? '; last try failed: ' + u.lastError : '') + '; ' + u.pending + ' entries pending'],
      ['MQTT', !s.mqtt ? 'off' : s.mqtt.state + ' (' + s.mqtt.broker + '); ' + s.mqtt.acked + ' readings acknowledged, ' + s.mqtt.pending + ' entries pending' + (s.mqtt.lastError ? '; ' + s.mqtt.lastError : '')],
      ['Time', s.time.now ? s.time.now + ' (' + s.time.source + ')' : 'not synchronised'],
      ['Network', s.network.station ? s.network.ssid + ', ' + s.network.station : 'not connected' + (s.network.ssid ? ' (' + s.network.ssid + ')' : '')],
      ['Access point', s.network.accessPoint ? s.network.accessPoint.address + ' (' + s.network.accessPoint.reason + ')' : 'off'],
      ['Firmware', s.firmware], ['Uptime', Math.round(s.uptime / 60000) + ' min']
    ];
    // The XS heap's own figures; none in the simulator, whose memory is not the device's.
    var h = s.heap;
    if (h) facts.push(['XS heap', h.slotsUsed.toLocaleString('en') + ' of ' + h.slotsTotal.toLocaleString('en') + ' slots, ' + kb(h.chunkBytesUsed) + ' of ' + kb(h.chunkBytesTotal) + ' chunks']);
    var dl = $('facts');
    dl.textContent = '';
    facts.forEach(function (p) { dl.appendChild(el('dt', p[0])); dl.appendChild(el('dd', p[1])); });
    $('hex').textContent = s.lastTelegram ? (s.lastTelegram.refused ? 'refused: ' + s.lastTelegram.refused + '\n' : '') + s.lastTelegram.hex.replace(/(.{2})/g, '$1 ').trim() : 'none yet';
  }).catch(fail);
  api('GET', '/api/live?max=1').then(function (l) {
    var t = $('live'), v = l[l.length - 1];
    t.textContent = '';
    if (!v) { $('live-time').textContent = 'No live value yet.'; return; }
    Object.keys(v.values).forEach(function (k) {
      var tr = el('tr');
      tr.appendChild(el('td', CHANNELS[k] || k));
      tr.appendChild(el('td', fmt(k, v.values[k])));
      t.appendChild(tr);
    });
    $('live-time').textContent = v.time ? 'at ' + v.time.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC') : 'time not known yet';
  }).catch(function () {});
}
$('banner-restart').onclick = function () { api('POST', '/api/restart').then(function () { restarting(false); }).catch(fail); };

// ---- actions ----
$('a-read').onclick = function () {
  var out = $('r-read');
  out.textContent = 'asking...';
  api('POST', '/api/readings/demand').then(function poll(r) {
    if (r.state === 'pending') return new Promise(function (ok) { setTimeout(ok, 1000); }).then(function () { return api('GET', '/api/readings/demand'); }).then(poll);
    out.textContent = r.state === 'done' ? 'reading #' + r.entry.seq + ' stored' : r.error;
  }).catch(function (e) { out.textContent = e.message; });
};
$('a-upload').onclick = function () {
  var out = $('r-upload');
  out.textContent = 'uploading...';
  api('POST', '/api/uplink/now').then(function () {
    // The upload runs in the background: its result shows in the status a moment later.
    setTimeout(function () {
      api('GET', '/api/status').then(function (s) {
        var u = s.uplink;
        out.textContent = !u ? 'not enrolled' : u.lastError ? 'failed: ' + u.lastError : u.lastSuccess ? 'delivered: ' + u.pending + ' entries pending' : 'uploading: see Status';
      }).catch(fail);
    }, 3000);
  }).catch(function (e) { out.textContent = e.message; });
};
// A signed image in pieces the device can hold: the header first (checked at once), then 4 KB at a time (docs/ota.md).
$('a-fw').onclick = function () {
  var out = $('r-fw'), f = $('fw-file').files[0];
  if (!f) { out.textContent = 'choose a signed image (.fw) first'; return; }
  f.arrayBuffer().then(function (b) {
    var file = new Uint8Array(b), at = 0;
    out.textContent = 'checking the signature...';
    return api('POST', '/api/firmware/begin', file.subarray(0, 192)).then(function (h) {
      if (192 + h.size !== file.length) throw new Error('the file has ' + file.length + ' bytes, its header says ' + (192 + h.size));
      function next() {
        if (at >= h.size) return api('POST', '/api/firmware/finish');
        out.textContent = h.version + ': ' + Math.floor(100 * at / h.size) + ' % written';
        return api('POST', '/api/firmware/piece?offset=' + at, file.subarray(192 + at, 192 + Math.min(at + h.piece, h.size))).then(function (r) { at = r.at; return next(); });
      }
      return next();
    }).then(function (r) { out.textContent = r.version + ' verified: restarting into it'; restarting(false); }, function (e) {
      api('POST', '/api/firmware/cancel').catch(function () {});
      throw e;
    });
  }).catch(function (e) { out.textContent = e.message; });
};
$('a-restart').onclick = function () {
  if (confirm('Restart the gateway?')) api('POST', '/api/restart').then(function () { restarting(false); }).catch(fail);
};
$('a-reset').onclick = function () {
  if (!confirm('Factory reset: erase all settings, keys and stored readings?')) return;
  api('POST', '/api/factory-reset', { confirm: 'factory reset' }).then(function () { pwSet = false; restarting(true); }).catch(fail);
};

// ---- events ----
function events() {
  var k = $('ev-kind').value;
  var got = [];
  var chain = null;
  // Pages of 50 from the oldest event the flash holds; the newest are shown first.
  function page(from) {
    return api('GET', '/api/events?from=' + from + (k ? '&kind=' + encodeURIComponent(k) : '')).then(function (r) {
      if (r.chain) chain = r.chain;
      var sel = $('ev-kind');
      if (sel.options.length === 1) r.kinds.forEach(function (n) { var o = el('option', n); o.value = n; sel.appendChild(o); });
      got = got.concat(r.events);
      return r.next !== null && got.length < 500 ? page(r.next) : null;
    });
  }
  page(0).then(function () {
    var c = $('ev-chain');
    c.textContent = !chain ? '' : chain.ok ? 'Hash chain intact: ' + chain.events + ' events checked.'
      : 'Hash chain broken at entry ' + chain.break.seq + ' (' + chain.break.reason + '): ' + chain.break.detail;
    c.className = chain && !chain.ok ? 'msg err' : 'msg ok';
    var ul = $('ev');
    ul.textContent = '';
    if (!got.length) ul.appendChild(el('li', 'No events.'));
    got.reverse().forEach(function (e) {
      var li = el('li', e.message);
      li.appendChild(el('i', e.kind + ' \u00b7 #' + e.number + ' \u00b7 ' + (e.time ? new Date(e.time).toISOString().replace(/\.\d+/, '') : 'uptime ' + Math.round(e.uptime / 1000) + ' s')));
      ul.appendChild(li);
    });
  }).catch(fail);
}
$('ev-kind').onchange = events;

window.onhashchange = route;
session().then(route).catch(function (e) { say(e.message, true); show('login'); });

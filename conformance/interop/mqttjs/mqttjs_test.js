// Interop: MQTT.js (npm package `mqtt`, majors 4 and 5 pinned in package.json as the aliases
// mqtt4 and mqtt5) against a broker, over MQTT 3.1.1 (protocolVersion 4) and MQTT 5.
//
//   node mqttjs_test.js --mqtt 5 --url mqtt://127.0.0.1:1883 [--protocol 4|5] [--only NAME]
//   node mqttjs_test.js --mqtt 5 --url ws://127.0.0.1:8080/mqtt
//   node mqttjs_test.js --mqtt 5 --url wss://127.0.0.1:8443/mqtt --ca ca.pem
//
// Scenarios: connect, QoS 0/1/2 both ways, retained messages, the will on an abnormal
// disconnect, a shared subscription, persistent-session resume and a 1 MB message both ways;
// each once per protocol version. --url takes any URL MQTT.js does: mqtt://, ws:// (MQTT over
// WebSocket), wss:// (over TLS; --ca names the PEM file of the CA to trust, and then the
// certificate must verify). Over WebSocket it also checks that a wrong path is refused; over
// wss that a client which does not trust the CA is. The packages come from `npm ci` into the simq cache (third_party/node/fetch, run
// by tools/setup): --modules DIR, else $SIMQ_NODE_MODULES, else <cache>/node/mqttjs/node_modules;
// a missing or different version than package.json pins fails the run at once, naming
// tools/setup. Prints one PASS/FAIL line per scenario and exits non-zero on any failure.
//
// Waits are on conditions (a packet, a message) with a time bound, never fixed sleeps, except
// where a test shows that something does NOT arrive. Plain CommonJS for Debian 12's Node 18.
'use strict'

const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const ARRIVE_MS = 10000 // any expected packet
const QUIET_MS = 500 // silence that shows something was not delivered
const SCENARIO_MS = 30000 // the bound on one scenario

function parseArgs (argv) {
  const args = { mqtt: '5', url: 'mqtt://127.0.0.1:1883', protocol: null, only: null, modules: null, ca: null }
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '')
    if (!(key in args) || i + 1 >= argv.length) {
      console.error(`usage: node mqttjs_test.js [--mqtt 4|5] [--url URL] [--protocol 4|5] [--only NAME] [--modules DIR] [--ca PEM]; bad argument ${argv[i]}`)
      process.exit(2)
    }
    args[key] = argv[i + 1]
  }
  return args
}

function cacheDir () {
  if (process.env.SIMQ_CACHE_DIR) return process.env.SIMQ_CACHE_DIR
  const xdg = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || '', '.cache')
  return path.join(xdg, 'simq')
}

// The `mqtt` package of major `major`, after checking it is the version package.json pins.
function loadMqtt (major, modules) {
  const alias = `mqtt${major}`
  const pinned = require('./package.json').dependencies[alias]
  if (!pinned) {
    console.error(`no ${alias} in package.json: --mqtt takes 4 or 5`)
    process.exit(2)
  }
  const want = pinned.replace(/^npm:mqtt@/, '')
  let have = null
  try {
    have = JSON.parse(fs.readFileSync(path.join(modules, alias, 'package.json'), 'utf8')).version
  } catch (e) {}
  if (have !== want) {
    console.error(`MQTT.js ${want} (package.json: "${alias}": "${pinned}") is not installed in ` +
      `${modules} (found: ${have}). Run tools/setup: its third_party/node/fetch installs it ` +
      '(npm ci into the simq cache).')
    process.exit(3)
  }
  return { mqtt: require(path.join(modules, alias)), version: have }
}

let counter = 0
const RUN = `${process.pid}-${Date.now() % 100000}`
function unique (what) {
  return `mqttjs-${RUN}-${what}-${counter++}`
}

function withTimeout (promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    })
  ]).finally(() => clearTimeout(timer))
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Polls `condition` until it holds; fails after ARRIVE_MS.
async function waitFor (condition, what) {
  const deadline = Date.now() + ARRIVE_MS
  while (!condition()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${ARRIVE_MS} ms waiting for ${what}`)
    await sleep(10)
  }
}

function describe (topic, payload, packet) {
  return `${topic} qos=${packet.qos} retain=${packet.retain ? 1 : 0} ${payload.toString()}`
}

// One MQTT.js client, recording what it receives. `wire` lists the PUBLISH packets in the order
// they arrived: MQTT.js emits a QoS 2 'message' only at the PUBREL, so `messages` may be in
// another order than the broker sent them.
class Peer {
  constructor (ctx, opts = {}) {
    this.ctx = ctx
    this.clientId = opts.clientId !== undefined ? opts.clientId : unique('client')
    this.opts = opts
    this.messages = []
    this.wire = []
    this.client = null
    this.closed = false
    ctx.peers.push(this)
  }

  // Connects and waits for CONNACK; the CONNACK packet. MQTT 3.1.1: `clean` is Clean
  // Session; MQTT 5: Clean Start, with `sessionExpiry` as the Session Expiry Interval.
  async connect ({ clean = true, sessionExpiry } = {}) {
    const options = {
      clientId: this.clientId,
      protocolVersion: this.ctx.protocol,
      clean,
      keepalive: 30,
      reconnectPeriod: 0, // a dropped connection stays dropped
      connectTimeout: ARRIVE_MS
    }
    if (this.ctx.ca) {
      options.ca = this.ctx.ca
      options.rejectUnauthorized = true
    }
    if (this.opts.will) options.will = this.opts.will
    if (this.ctx.protocol === 5 && sessionExpiry !== undefined) {
      options.properties = { sessionExpiryInterval: sessionExpiry }
    }
    this.client = this.ctx.mqtt.connect(this.opts.url || this.ctx.url, options)
    this.client.on('message', (topic, payload, packet) => {
      this.messages.push(describe(topic, payload, packet))
    })
    this.client.on('packetreceive', (packet) => {
      if (packet.cmd === 'publish') this.wire.push(`${packet.topic} qos=${packet.qos}`)
    })
    this.client.on('close', () => { this.closed = true })
    const connack = await withTimeout(new Promise((resolve, reject) => {
      this.client.once('connect', resolve)
      this.client.once('error', reject)
    }), ARRIVE_MS, `CONNACK for ${this.clientId}`)
    this.client.on('error', (err) => this.ctx.errors.push(`${this.clientId}: ${err.message}`))
    return connack
  }

  until (condition, what) {
    return waitFor(condition, `${this.clientId}: ${what}`)
  }

  // Subscribes and waits for the SUBACK; the granted QoS.
  subscribe (topic, qos, extra = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      this.client.subscribe(topic, { qos, ...extra }, (err, granted) => {
        if (err) return reject(err)
        if (granted.length !== 1 || granted[0].qos >= 0x80) {
          return reject(new Error(`SUBACK for ${topic}: ${JSON.stringify(granted)}`))
        }
        resolve(granted[0].qos)
      })
    }), ARRIVE_MS, `SUBACK for ${topic}`)
  }

  // Publishes and waits until the flow is complete (PUBACK for QoS 1, PUBCOMP for QoS 2).
  // MQTT.js fails the callback on a reason code of 0x80 or more.
  publish (topic, payload, qos, extra = {}) {
    return withTimeout(new Promise((resolve, reject) => {
      this.client.publish(topic, payload, { qos, ...extra }, (err) => err ? reject(err) : resolve())
    }), ARRIVE_MS, `acknowledgement of a QoS ${qos} PUBLISH to ${topic}`)
  }

  // The next `n` messages, as sorted 'topic qos=Q retain=R payload' lines.
  async receive (n) {
    await this.until(() => this.messages.length >= n, `${n} message(s), got ${JSON.stringify(this.messages)}`)
    return this.messages.splice(0, n).sort()
  }

  async expectNothing () {
    await sleep(QUIET_MS)
    assert.deepEqual(this.messages, [], `${this.clientId}: unexpected messages`)
  }

  // A normal DISCONNECT.
  disconnect () {
    return withTimeout(new Promise((resolve) => this.client.end(false, {}, resolve)), ARRIVE_MS,
      `${this.clientId} to disconnect`)
  }

  // Closes the TCP connection without DISCONNECT, as a crashed client would: end(true)
  // destroys the stream without sending anything.
  async drop () {
    this.client.end(true)
    await this.until(() => this.closed, 'the connection to close')
  }

  close () {
    if (this.client && !this.closed) this.client.end(true)
  }
}

// ---- The scenarios -------------------------------------------------------------------------------

const scenarios = {}

scenarios.connect = async (ctx) => {
  const p = new Peer(ctx)
  const connack = await p.connect()
  assert.equal(connack.sessionPresent, false, 'Session Present with a clean start [MQTT-3.2.2-1/2]')
  assert.equal(connack.returnCode ?? connack.reasonCode ?? 0, 0)
  // An empty client id with a clean start is accepted [MQTT-3.1.3-6/7]; MQTT 5 says which id
  // the server assigned [MQTT-3.2.2-16].
  const anon = new Peer(ctx, { clientId: '' })
  const anonConnack = await anon.connect()
  if (ctx.protocol === 5) {
    assert.ok(anonConnack.properties && anonConnack.properties.assignedClientIdentifier,
      `no Assigned Client Identifier in CONNACK: ${JSON.stringify(anonConnack.properties)}`)
  }
  await anon.disconnect()
  await p.disconnect()
}

// Each of two clients publishes at QoS 0, 1 and 2 to the other; a subscriber granted QoS 1
// gets min(QoS) [MQTT-3.8.4-6].
scenarios.qos012BothWays = async (ctx) => {
  const base = unique('qos')
  const a = new Peer(ctx); const b = new Peer(ctx); const low = new Peer(ctx)
  await Promise.all([a.connect(), b.connect(), low.connect()])
  assert.equal(await a.subscribe(`${base}/to-a/#`, 2), 2)
  assert.equal(await b.subscribe(`${base}/to-b/#`, 2), 2)
  assert.equal(await low.subscribe(`${base}/+/#`, 1), 1)
  for (const qos of [0, 1, 2]) {
    await a.publish(`${base}/to-b/${qos}`, `at ${qos}`, qos)
    await b.publish(`${base}/to-a/${qos}`, `at ${qos}`, qos)
  }
  const expect = (to, granted) =>
    [0, 1, 2].map((q) => `${base}/${to}/${q} qos=${Math.min(q, granted)} retain=0 at ${q}`)
  assert.deepEqual(await a.receive(3), expect('to-a', 2))
  assert.deepEqual(await b.receive(3), expect('to-b', 2))
  assert.deepEqual(await low.receive(6), [...expect('to-a', 1), ...expect('to-b', 1)].sort())
  await a.expectNothing()
  await b.expectNothing()
}

// A retained message reaches later subscribers with RETAIN set [MQTT-3.3.1-6]; live ones get
// RETAIN 0; an empty retained message deletes it [MQTT-3.3.1-10/11].
scenarios.retained = async (ctx) => {
  const topic = unique('retained')
  const pub = new Peer(ctx)
  await pub.connect()
  await pub.publish(topic, 'kept', 1, { retain: true })
  const late = new Peer(ctx)
  await late.connect()
  await late.subscribe(topic, 2)
  assert.deepEqual(await late.receive(1), [`${topic} qos=1 retain=1 kept`])
  await pub.publish(topic, 'replaced', 2, { retain: true })
  assert.deepEqual(await late.receive(1), [`${topic} qos=2 retain=0 replaced`])
  const later = new Peer(ctx)
  await later.connect()
  await later.subscribe(topic, 1)
  assert.deepEqual(await later.receive(1), [`${topic} qos=1 retain=1 replaced`])
  await pub.publish(topic, '', 1, { retain: true })
  assert.deepEqual(await late.receive(1), [`${topic} qos=1 retain=0 `])
  const last = new Peer(ctx)
  await last.connect()
  await last.subscribe(topic, 1)
  await last.expectNothing()
}

// The will is published when the connection closes without DISCONNECT [MQTT-3.1.2-8], at its
// QoS (with its properties in MQTT 5), and discarded on a normal DISCONNECT [MQTT-3.1.2-10].
scenarios.willOnAbnormalDisconnect = async (ctx) => {
  const topic = unique('will')
  const watcher = new Peer(ctx)
  await watcher.connect()
  await watcher.subscribe(topic, 2)
  let props = null
  watcher.client.on('message', (t, payload, packet) => { props = packet.properties })
  const will = (payload) => {
    const w = { topic, payload, qos: 1, retain: false }
    if (ctx.protocol === 5) {
      w.properties = { contentType: 'text/plain', userProperties: { who: payload } }
    }
    return w
  }

  const polite = new Peer(ctx, { will: will('polite') })
  await polite.connect()
  await polite.disconnect()
  await watcher.expectNothing()

  const rude = new Peer(ctx, { will: will('rude') })
  await rude.connect()
  await rude.drop()
  assert.deepEqual(await watcher.receive(1), [`${topic} qos=1 retain=0 rude`])
  if (ctx.protocol === 5) {
    assert.equal(props && props.contentType, 'text/plain')
    assert.deepEqual({ ...(props && props.userProperties) }, { who: 'rude' })
  }
  await watcher.expectNothing()
}

// Each message published to a $share group reaches exactly one member [MQTT 5 4.8.2]; a plain
// subscriber to the same topic gets every one.
scenarios.sharedSubscription = async (ctx) => {
  const topic = unique('shared')
  const group = `$share/${unique('group')}/${topic}`
  const members = [new Peer(ctx), new Peer(ctx)]
  const plain = new Peer(ctx)
  const pub = new Peer(ctx)
  await Promise.all([...members, plain, pub].map((p) => p.connect()))
  for (const m of members) await m.subscribe(group, 1)
  await plain.subscribe(topic, 1)
  const n = 20
  for (let i = 0; i < n; i++) await pub.publish(topic, `${i}`, 1)
  const total = () => members.reduce((sum, m) => sum + m.messages.length, 0)
  await waitFor(() => total() >= n, `${n} messages across the group`)
  const seen = members.flatMap((m) => m.messages.map((line) => Number(line.split(' ').pop())))
  assert.deepEqual(seen.sort((x, y) => x - y), [...Array(n).keys()], 'each message exactly once across the group')
  assert.equal((await plain.receive(n)).length, n)
  await sleep(QUIET_MS)
  assert.equal(total(), n, 'a message delivered twice to the group')
}

// A session that outlives the connection (3.1.1: Clean Session 0; 5.0: Clean Start 0 and a
// Session Expiry Interval) resumes: CONNACK Session Present 1 [MQTT-3.2.2-2/3], the
// subscription kept and the QoS 1/2 messages published meanwhile sent in order [MQTT-4.6.0-6],
// after a normal and after an abnormal disconnect. A clean start ends it.
scenarios.persistentSessionResume = async (ctx) => {
  const clientId = unique('persistent')
  let topic = unique('topic')
  const v5 = ctx.protocol === 5
  const expiry = v5 ? 60 : undefined

  // MQTT 5: Clean Start 1 and an expiry; MQTT 3.1.1: Clean Session 0 from the start.
  const s = new Peer(ctx, { clientId })
  assert.equal((await s.connect({ clean: v5, sessionExpiry: expiry })).sessionPresent, false)
  await s.subscribe(`${topic}/#`, 2)
  await s.disconnect()

  const pub = new Peer(ctx)
  await pub.connect()
  const queued = [[1, 'queued 1'], [2, 'queued 2'], [1, 'queued 3']]
  for (const [i, [qos, payload]] of queued.entries()) await pub.publish(`${topic}/${i}`, payload, qos)

  const s2 = new Peer(ctx, { clientId })
  assert.equal((await s2.connect({ clean: false, sessionExpiry: expiry })).sessionPresent, true,
    'Session Present 0 on resuming the session')
  assert.deepEqual(await s2.receive(3),
    queued.map(([qos, payload], i) => `${topic}/${i} qos=${qos} retain=0 ${payload}`).sort())
  assert.deepEqual(s2.wire, queued.map(([qos], i) => `${topic}/${i} qos=${qos}`),
    'PUBLISH packets in the order published [MQTT-4.6.0-6]')
  topic += '/0'
  await pub.publish(topic, 'live', 2)
  assert.deepEqual(await s2.receive(1), [`${topic} qos=2 retain=0 live`])

  // The session also survives a connection that breaks.
  await s2.drop()
  await pub.publish(topic, 'after drop', 1)
  const s3 = new Peer(ctx, { clientId })
  assert.equal((await s3.connect({ clean: false, sessionExpiry: expiry })).sessionPresent, true,
    'Session Present 0 after an abnormal disconnect')
  assert.deepEqual(await s3.receive(1), [`${topic} qos=1 retain=0 after drop`])
  await s3.disconnect()

  // A clean start discards it [MQTT-3.1.2-4/6]. s4's session then ends with its connection,
  // which s4 drops with a will: the will shows that the broker has closed that connection.
  // (After a DISCONNECT, s5's CONNECT on another connection could reach the broker first and
  // take the session over while it still exists.)
  const gone = unique('gone')
  await pub.subscribe(gone, 1)
  const s4 = new Peer(ctx, { clientId, will: { topic: gone, payload: 'gone', qos: 1, retain: false } })
  assert.equal((await s4.connect({ clean: true, sessionExpiry: v5 ? 0 : undefined })).sessionPresent, false,
    'Session Present 1 with a clean start')
  await s4.drop()
  assert.deepEqual(await pub.receive(1), [`${gone} qos=1 retain=0 gone`])
  await pub.publish(topic, 'nobody', 1)
  const s5 = new Peer(ctx, { clientId })
  assert.equal((await s5.connect({ clean: false, sessionExpiry: expiry })).sessionPresent, false,
    'Session Present 1 after a clean start ended the session')
  await s5.expectNothing()
}

// MQTT packets larger than any WebSocket frame or TLS record: 1 MB at QoS 1 each way.
scenarios.largeMessageBothWays = async (ctx) => {
  const base = unique('large')
  const a = new Peer(ctx); const b = new Peer(ctx)
  await Promise.all([a.connect(), b.connect()])
  await a.subscribe(`${base}/to-a`, 1)
  await b.subscribe(`${base}/to-b`, 1)
  const payload = (fill) => Buffer.alloc(1 << 20, fill)
  let gotA = null; let gotB = null
  a.client.on('message', (topic, p) => { gotA = p })
  b.client.on('message', (topic, p) => { gotB = p })
  await a.publish(`${base}/to-b`, payload('a'), 1)
  await b.publish(`${base}/to-a`, payload('b'), 1)
  await a.until(() => gotA !== null, 'the 1 MB message')
  await b.until(() => gotB !== null, 'the 1 MB message')
  assert.ok(gotA.equals(payload('b')), `a got ${gotA.length} bytes, not 1 MB of 'b'`)
  assert.ok(gotB.equals(payload('a')), `b got ${gotB.length} bytes, not 1 MB of 'a'`)
}

// A connection attempt that must fail before CONNACK: the error MQTT.js reports.
async function refused (ctx, url, extra = {}) {
  const client = ctx.mqtt.connect(url, {
    clientId: unique('refused'),
    protocolVersion: ctx.protocol,
    reconnectPeriod: 0,
    connectTimeout: ARRIVE_MS,
    ...extra
  })
  try {
    return await withTimeout(new Promise((resolve, reject) => {
      client.once('connect', () => reject(new Error(`${url}: connected, but should be refused`)))
      client.once('error', resolve)
      client.once('close', () => resolve(new Error('closed without an error')))
    }), ARRIVE_MS, `${url} to be refused`)
  } finally {
    client.end(true)
  }
}

// Over WebSocket, only the configured path (/mqtt by default) speaks MQTT.
scenarios.wrongWebSocketPathRefused = async (ctx) => {
  const url = new URL(ctx.url)
  url.pathname = '/not-mqtt'
  await refused(ctx, url.toString(), ctx.ca ? { ca: ctx.ca, rejectUnauthorized: true } : {})
  // The right path still works.
  await new Peer(ctx).connect()
}
scenarios.wrongWebSocketPathRefused.transports = ['ws:', 'wss:']

// Over TLS, a client that does not trust the server's CA does not get to MQTT.
scenarios.untrustedCertificateRefused = async (ctx) => {
  const err = await refused(ctx, ctx.url, { rejectUnauthorized: true })
  assert.match(`${err.code} ${err.message}`, /certificate|CERT_|UNABLE_TO_VERIFY/,
    `not a certificate error: ${err.stack}`)
}
scenarios.untrustedCertificateRefused.transports = ['wss:', 'mqtts:']

// ---- Runner --------------------------------------------------------------------------------------

async function main () {
  const args = parseArgs(process.argv.slice(2))
  const modules = args.modules || process.env.SIMQ_NODE_MODULES ||
    path.join(cacheDir(), 'node', 'mqttjs', 'node_modules')
  const { mqtt, version } = loadMqtt(args.mqtt, modules)
  const protocols = args.protocol ? [Number(args.protocol)] : [4, 5]
  const ca = args.ca ? fs.readFileSync(args.ca) : null
  console.log(`MQTT.js ${version} (Node ${process.version}) against ${args.url}`)

  let passed = 0; let failed = 0
  for (const protocol of protocols) {
    for (const [name, scenario] of Object.entries(scenarios)) {
      if (args.only && args.only !== name) continue
      if (scenario.transports && !scenario.transports.includes(new URL(args.url).protocol)) continue
      const ctx = { mqtt, url: args.url, ca, protocol, peers: [], errors: [] }
      const label = `mqtt${args.mqtt}/protocolVersion ${protocol}/${name}`
      const start = Date.now()
      try {
        await withTimeout(scenario(ctx), SCENARIO_MS, label)
        assert.deepEqual(ctx.errors, [], 'client errors')
        console.log(`PASS ${label} (${Date.now() - start} ms)`)
        passed++
      } catch (err) {
        console.log(`FAIL ${label} (${Date.now() - start} ms): ${err.stack || err}`)
        failed++
      } finally {
        for (const p of ctx.peers) p.close()
      }
    }
  }
  console.log(`${passed} passed, ${failed} failed`)
  process.exit(failed === 0 && passed > 0 ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})

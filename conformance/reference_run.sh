#!/usr/bin/env bash
# Regenerates docs/conformance.md: runs //conformance:suite against Mosquitto (Debian's
# `mosquitto` package, conformance/mosquitto.conf, a free loopback port) and against simq (with
# simq.toml and with simq_restricted.toml), then tabulates every test's result per statement.
#
#   bazel build //conformance:suite //broker
#   conformance/reference_run.sh bazel-bin/conformance/suite bazel-bin/broker/broker
set -euo pipefail

suite=$(realpath "$1") broker=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)
out=${3:-$here/../docs/conformance.md}
work=$(mktemp -d /tmp/simq-reference-XXXXXX)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

sed "s/^listener 1883 /listener $port /" "$here/mosquitto.conf" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 &
mosquitto_pid=$!
trap 'kill $mosquitto_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break
  sleep 0.1
done
mosquitto_version=$( (mosquitto -h 2>&1 || true) | sed -n "s/^mosquitto version //p" | head -1)

"$suite" --port "$port" >"$work/mosquitto.out" 2>&1 || true
kill $mosquitto_pid
"$suite" --broker-binary "$broker" --broker-config "$here/simq.toml" --work-dir "$work/simq" \
  >"$work/simq.out" 2>&1 || true
"$suite" --broker-binary "$broker" --broker-config "$here/simq_restricted.toml" \
  --work-dir "$work/simq-restricted" >"$work/simq-restricted.out" 2>&1 || true
"$suite" --list-statements >"$work/list.txt"

python3 - "$work" "$mosquitto_version" "$here/statements.md" >"$out" <<'PY'
import collections, re, sys
work, mversion, table = sys.argv[1], sys.argv[2], sys.argv[3]

def results(name):
    r = {}
    for line in open(f"{work}/{name}.out"):
        m = re.match(r"(PASS|FAIL|SKIP) (\S+?)(?:: (.*))?$", line.rstrip("\n"))
        if m:
            r[m.group(2)] = (m.group(1), m.group(3) or "")
    return r

def summary(name):
    for line in open(f"{work}/{name}.out"):
        if re.match(r"\d+ passed", line):
            return line.strip()
    return "(no summary: the run did not complete)"

mosq, full, restricted = results("mosquitto"), results("simq"), results("simq-restricted")
tests = [l.rstrip("\n").split("\t") for l in open(f"{work}/list.txt")]

def simq(name):
    a, b = full.get(name, ("-", "")), restricted.get(name, ("-", ""))
    if "FAIL" in (a[0], b[0]):
        return "FAIL"
    return "PASS" if "PASS" in (a[0], b[0]) else "SKIP"

def cell(s):
    return s.replace("|", "\\|")

# Our reading of a Mosquitto failure, shown under the suite's own account when that test fails.
notes = {
    "MQTT_3_1_2_2_RefusesUnsupportedProtocolVersion": "level 6 gets a 3.1.1-format CONNACK `20 02 00 01`; the statement allows CONNACK 0x84 or a plain close",
    "MQTT_3_2_2_8_UsesConnectReasonCodes": "the same 3.1.1-format CONNACK: 0x01 is not an MQTT 5 CONNACK Reason Code",
    "MQTT_3_1_2_22_ClosesAfterOneAndAHalfKeepAlive": "Mosquitto checks keep alive on a coarse timer, so the close comes seconds after 1.5 times Keep Alive",
    "V311_MQTT_3_1_2_24_ClosesAfterOneAndAHalfKeepAlive": "as for MQTT 5: a coarse keep-alive timer",
    "MQTT_3_2_2_22_UsesClientKeepAliveWithoutServerKeepAlive": "the same coarse keep-alive timer",
    "MQTT_3_3_2_8_RefusesTopicAliasZeroWith0x94": "closes, but with 0x81 Malformed Packet instead of 0x94 Topic Alias invalid",
    "MQTT_4_3_3_7_NoMessageExpiryAfterPublishSent": "a QoS 2 message already sent is dropped on resume once its Message Expiry Interval has passed, instead of being re-sent",
    "MQTT_3_8_3_4_NoLocalOnSharedSubscriptionIsProtocolError": "grants the subscription instead of closing with 0x82",
    "MQTT_4_8_2_1_RefusesEmptyShareName": "accepts `$share//filter`",
    "MQTT_4_8_2_2_RefusesInvalidShareName": "accepts `$share/name` without a filter",
    "MQTT_3_3_4_7_DisconnectsClientExceedingReceiveMaximumWith0x93": "does not enforce its own Receive Maximum on clients",
    "MQTT_3_3_4_9_NeverExceedsClientReceiveMaximum": "sends one more QoS 1 PUBLISH than the client's Receive Maximum allows after a PUBACK",
    "MQTT_2_1_3_1_WrongFixedHeaderFlagsAreMalformed": "answers a PINGREQ with reserved flags set instead of closing",
    "V311_MQTT_2_2_2_2_ClosesOnInvalidFixedHeaderFlags": "the same for 3.1.1",
    "MQTT_3_3_4_6_SubscriptionIdFromClientIsProtocolError": "accepts a client PUBLISH carrying a Subscription Identifier",
}

rows = {"5.0": [], "3.1.1": []}
failures = []
for name, statement, version in tests:
    m = mosq.get(name, ("-", ""))
    rows[version].append(f"| {statement} | `{name}` | {m[0]} | {simq(name)} |")
    if m[0] == "FAIL":
        failures.append(f"- `{name}` ({statement}, MQTT {version}): {cell(m[1])}")
        if name in notes:
            failures.append(f"  *Reading:* {notes[name]}.")

untested = collections.Counter()
section = None
for line in open(table):
    if line.startswith("## MQTT 5.0"): section = "5.0"
    if line.startswith("## MQTT 3.1.1"): section = "3.1.1"
    m = re.match(r"\| (MQTT-\S+) \| (client-side|not observable) \|", line)
    if m: untested[(section, m.group(2))] += 1

print(f"""# Conformance: simq and Mosquitto, statement by statement

Generated by `conformance/reference_run.sh`; do not edit by hand. `//conformance:suite` has one
test per server-side normative statement of MQTT 5.0 and MQTT 3.1.1 that a client can observe
([conformance/statements.md](../conformance/statements.md) lists every statement, including the
{untested[('5.0', 'client-side')]} + {untested[('3.1.1', 'client-side')]} client-side and
{untested[('5.0', 'not observable')]} + {untested[('3.1.1', 'not observable')]} unobservable ones of
5.0 + 3.1.1, with the reason). This page is the reference run: the same suite against
Mosquitto {mversion} (Debian 12's `mosquitto` package) and against simq.

## How it was run

```sh
bazel build //conformance:suite //broker
conformance/reference_run.sh bazel-bin/conformance/suite bazel-bin/broker/broker
```

which does, on free loopback ports:

```sh
mosquitto -c mosquitto.conf            # conformance/mosquitto.conf with the port filled in
suite --port PORT                      # against Mosquitto
suite --broker-binary broker --broker-config conformance/simq.toml
suite --broker-binary broker --broker-config conformance/simq_restricted.toml
```

- Mosquitto: [conformance/mosquitto.conf](../conformance/mosquitto.conf), its defaults plus
  anonymous access and no persistence.
- simq, twice: [simq.toml](../conformance/simq.toml) (every optional feature on, small limits
  the suite can reach) and [simq_restricted.toml](../conformance/simq_restricted.toml) (Maximum
  QoS 1, no retain, wildcards, shared subscriptions, subscription identifiers or topic aliases),
  so that the tests of a server *without* a feature run too. The simq column is FAIL if either
  run failed, PASS if either passed, else SKIP. CI runs the same two passes
  (`//conformance:suite_test`) and requires no failure.

A test SKIPs when the server does not offer what it needs (for example the tests of Maximum QoS
1 against a server with QoS 2), with the reason in the suite's output.

## Totals

| Server | Result |
| --- | --- |
| Mosquitto {mversion} | {summary("mosquitto")} |
| simq, simq.toml | {summary("simq")} |
| simq, simq_restricted.toml | {summary("simq-restricted")} |

## Where Mosquitto fails

Each line is the suite's own account: what it sent, what it expected, what came back. Some are
readings of a MAY or SHOULD the suite holds strictly; the test names the statement it checks.

""")
print("\n".join(failures) if failures else "(none)")
for version in ("5.0", "3.1.1"):
    print(f"""
## MQTT {version}, test by test

| Statement | Test | Mosquitto {mversion} | simq |
| --- | --- | --- | --- |""")
    print("\n".join(rows[version]))
PY
echo "wrote $out (work files in $work)"

"""Interop: paho-mqtt for Python (Eclipse Paho, pinned in requirements.txt) against a broker.

Every scenario runs twice, over MQTT 3.1.1 and over MQTT 5.0: connect, QoS 0/1/2 both ways,
retained messages, the will on an abnormal disconnect, a shared subscription and
persistent-session resume. The broker is at $SIMQ_BROKER (host:port); the Bazel target
//conformance/interop:paho_python_test starts a fresh simq for it (script_interop_test.cc).

By hand, against a broker you started:

    SIMQ_BROKER=127.0.0.1:1883 ~/.cache/simq/python/paho_python/bin/python \\
        conformance/interop/paho_python/paho_python_test.py -v

The interpreter is the venv third_party/python/fetch builds (tools/setup); a missing or
different paho-mqtt than requirements.txt pins makes the run fail at once, naming tools/setup.
Waits are on conditions (a message, an acknowledgement) with a time bound, never fixed sleeps,
except where a test shows that something does NOT arrive.
"""

import importlib.metadata
import itertools
import os
import pathlib
import queue
import re
import socket
import sys
import threading
import time
import unittest

ARRIVE = 10.0  # seconds any expected packet may take
QUIET = 0.5  # seconds of silence that show something was not delivered


def check_pinned_versions():
    """Exits unless every package pinned in requirements.txt is installed at that version."""
    requirements = pathlib.Path(__file__).with_name("requirements.txt")
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", requirements.read_text(), re.M)
    for name, version in pins:
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            installed = None
        if installed != version:
            sys.exit(f"{name} {version} (pinned in {requirements.name}) is not installed in "
                     f"{sys.prefix} (found: {installed}). Run tools/setup: its "
                     f"third_party/python/fetch builds this venv.")


check_pinned_versions()

import paho.mqtt  # noqa: E402  (after the version check, which explains a missing module)
import paho.mqtt.client as mqtt  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402
from paho.mqtt.subscribeoptions import SubscribeOptions  # noqa: E402

HOST, _, PORT = os.environ.get("SIMQ_BROKER", "127.0.0.1:1883").rpartition(":")
PORT = int(PORT)
RUN = f"{os.getpid()}-{int(time.time() * 1000) % 100000}"
_ids = itertools.count()


def unique(what):
    return f"paho-py-{RUN}-{what}-{next(_ids)}"


def connect_properties(**values):
    props = Properties(PacketTypes.CONNECT)
    for name, value in values.items():
        setattr(props, name, value)
    return props


class Message:
    """What a subscriber saw of one PUBLISH."""

    def __init__(self, msg):
        self.topic = msg.topic
        self.payload = msg.payload.decode()
        self.qos = msg.qos
        self.retain = bool(msg.retain)
        self.properties = getattr(msg, "properties", None)

    def __repr__(self):
        return f"{self.topic} qos={self.qos} retain={int(self.retain)} {self.payload}"


class Peer:
    """One paho client with its network thread (loop_start), recording what it receives.

    Owned by one test; paho calls the on_* callbacks on its network thread, which only puts
    into queues and dicts guarded by `lock`.
    """

    def __init__(self, test, protocol, client_id=None, will=None):
        self.test = test
        self.protocol = protocol
        self.client_id = unique("client") if client_id is None else client_id
        self.will = will
        self.client = None  # made by connect(): MQTT 3.1.1's Clean Session is set there
        self.messages = queue.Queue()
        self.connacks = queue.Queue()
        self.lock = threading.Lock()
        self.acks = {}  # mid -> reason code of the PUBACK / PUBCOMP (or SUBACK list)
        # The topics of the PUBLISH packets received, in wire order. paho hands a QoS 2
        # message to on_message only when its PUBREL arrives, so `messages` can be in another
        # order than the broker sent them; its debug log shows each PUBLISH as it arrives.
        self.wire = []
        self.disconnected = threading.Event()
        test.addCleanup(self.close)

    def _make_client(self, clean_session):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                  clean_session=clean_session, protocol=self.protocol,
                                  reconnect_on_failure=False)
        if self.will is not None:
            self.client.will_set(**self.will)
        self.client.on_connect = lambda c, u, flags, rc, props: self.connacks.put((flags, rc, props))
        self.client.on_message = lambda c, u, msg: self.messages.put(Message(msg))
        self.client.on_publish = lambda c, u, mid, rc, props: self._ack(mid, rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self._ack(mid, rcs)
        self.client.on_disconnect = lambda c, u, flags, rc, props: self.disconnected.set()
        self.client.on_log = lambda c, u, level, text: self._log(text)

    @property
    def v5(self):
        return self.protocol == mqtt.MQTTv5

    def _log(self, text):
        if m := re.match(r"Received PUBLISH \(d\d, q(\d), r\d, m\d+\), '([^']*)'", text):
            with self.lock:
                self.wire.append(f"{m[2]} qos={m[1]}")

    def _ack(self, mid, rc):
        with self.lock:
            self.acks[mid] = rc

    def connect(self, clean=True, session_expiry=None):
        """Connects and waits for CONNACK; returns (session_present, reason_code, properties).

        MQTT 3.1.1: `clean` is Clean Session. MQTT 5: Clean Start, and `session_expiry` the
        Session Expiry Interval."""
        if self.v5:
            self._make_client(clean_session=None)
            props = None
            if session_expiry is not None:
                props = connect_properties(SessionExpiryInterval=session_expiry)
            self.client.connect(HOST, PORT, keepalive=30, clean_start=clean, properties=props)
        else:
            self._make_client(clean_session=clean)
            self.client.connect(HOST, PORT, keepalive=30)
        self.client.loop_start()
        try:
            flags, rc, props = self.connacks.get(timeout=ARRIVE)
        except queue.Empty:
            self.test.fail(f"{self.client_id}: no CONNACK within {ARRIVE} s")
        self.test.assertFalse(rc.is_failure, f"{self.client_id}: CONNACK {rc}")
        return flags.session_present, rc, props

    def subscribe(self, topic, qos, options=None):
        """Subscribes and waits for the SUBACK; returns the granted QoS."""
        if options is not None:
            rc, mid = self.client.subscribe(topic, options=options)
        else:
            rc, mid = self.client.subscribe(topic, qos)
        self.test.assertEqual(rc, mqtt.MQTT_ERR_SUCCESS)
        codes = self._wait_ack(mid, f"SUBACK for {topic}")
        self.test.assertEqual(len(codes), 1)
        self.test.assertFalse(codes[0].is_failure, f"SUBACK for {topic}: {codes[0]}")
        return codes[0].value

    def publish(self, topic, payload, qos, retain=False, properties=None):
        """Publishes and waits until the flow is complete (sent for QoS 0, PUBACK for QoS 1,
        PUBCOMP for QoS 2); returns the reason code."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        self.test.assertEqual(info.rc, mqtt.MQTT_ERR_SUCCESS, f"publish to {topic}")
        return self._wait_ack(info.mid, f"acknowledgement of a QoS {qos} PUBLISH to {topic}")

    def _wait_ack(self, mid, what):
        deadline = time.monotonic() + ARRIVE
        while time.monotonic() < deadline:
            with self.lock:
                if mid in self.acks:
                    return self.acks.pop(mid)
            time.sleep(0.005)
        self.test.fail(f"{self.client_id}: no {what} within {ARRIVE} s")

    def next(self):
        try:
            return self.messages.get(timeout=ARRIVE)
        except queue.Empty:
            self.test.fail(f"{self.client_id}: no message within {ARRIVE} s")

    def receive(self, n):
        """The next `n` messages, as sorted 'topic qos=Q retain=R payload' lines."""
        return sorted(repr(self.next()) for _ in range(n))

    def expect_nothing(self):
        try:
            unexpected = self.messages.get(timeout=QUIET)
        except queue.Empty:
            return
        self.test.fail(f"{self.client_id}: unexpected message {unexpected!r}")

    def disconnect(self):
        """A normal DISCONNECT."""
        self.client.disconnect()
        self.disconnected.wait(ARRIVE)
        self.client.loop_stop()

    def drop(self):
        """Closes the TCP connection without DISCONNECT, as a crashed client would."""
        sock = self.client.socket()
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)
        self.disconnected.wait(ARRIVE)
        self.client.loop_stop()

    def close(self):
        if self.client is None:
            return
        if self.client.is_connected():
            self.client.disconnect()
        self.client.loop_stop()


class Scenarios:
    """The scenarios, for either protocol version (PROTOCOL, set by the subclasses)."""

    PROTOCOL = None

    @property
    def v5(self):
        return self.PROTOCOL == mqtt.MQTTv5

    def peer(self, client_id=None, will=None, clean=True, session_expiry=None):
        p = Peer(self, self.PROTOCOL, client_id=client_id, will=will)
        p.connect(clean=clean, session_expiry=session_expiry)
        return p

    def test_connect(self):
        p = Peer(self, self.PROTOCOL)
        session_present, rc, props = p.connect()
        self.assertFalse(session_present, "Session Present with a clean start [MQTT-3.2.2-1/2]")
        self.assertEqual(rc.value, 0)
        self.assertTrue(p.client.is_connected())
        # An empty client id with a clean start is accepted [MQTT-3.1.3-6/7]; MQTT 5 says which
        # id the server assigned [MQTT-3.2.2-16].
        anon = Peer(self, self.PROTOCOL, client_id="")
        _, _, anon_props = anon.connect()
        if self.v5:
            self.assertTrue(getattr(anon_props, "AssignedClientIdentifier", ""),
                            f"no Assigned Client Identifier in CONNACK: {anon_props}")
        anon.disconnect()
        p.disconnect()

    def test_qos_012_both_ways(self):
        """Each of two clients publishes at QoS 0, 1 and 2 to the other; each flow completes
        with success, and a subscriber granted QoS 1 gets min(QoS) [MQTT-3.8.4-6]."""
        base = unique("qos")
        a, b, low = self.peer(), self.peer(), self.peer()
        self.assertEqual(a.subscribe(base + "/to-a/#", 2), 2)
        self.assertEqual(b.subscribe(base + "/to-b/#", 2), 2)
        self.assertEqual(low.subscribe(base + "/+/#", 1), 1)
        for qos in (0, 1, 2):
            for sender, to in ((a, "to-b"), (b, "to-a")):
                rc = sender.publish(f"{base}/{to}/{qos}", f"at {qos}", qos)
                self.assertFalse(rc.is_failure, f"QoS {qos} acknowledgement: {rc}")
        expect = lambda to, q1: [f"{base}/{to}/{q} qos={min(q, q1)} retain=0 at {q}" for q in (0, 1, 2)]
        self.assertEqual(a.receive(3), expect("to-a", 2))
        self.assertEqual(b.receive(3), expect("to-b", 2))
        self.assertEqual(low.receive(6), sorted(expect("to-a", 1) + expect("to-b", 1)))
        a.expect_nothing()
        b.expect_nothing()

    def test_retained(self):
        """A retained message reaches later subscribers with RETAIN set [MQTT-3.3.1-6]; live
        ones get RETAIN 0 (3.1.1: [MQTT-3.3.1-9]; 5.0 without Retain As Published:
        [MQTT-3.3.1-12]); an empty retained message deletes it [MQTT-3.3.1-10/11]."""
        topic = unique("retained")
        pub = self.peer()
        pub.publish(topic, "kept", 1, retain=True)
        late = self.peer()
        late.subscribe(topic, 2)
        self.assertEqual(late.receive(1), [f"{topic} qos=1 retain=1 kept"])
        pub.publish(topic, "replaced", 2, retain=True)
        self.assertEqual(late.receive(1), [f"{topic} qos=2 retain=0 replaced"])
        later = self.peer()
        later.subscribe(topic, 1)
        self.assertEqual(later.receive(1), [f"{topic} qos=1 retain=1 replaced"])
        pub.publish(topic, "", 1, retain=True)
        self.assertEqual(late.receive(1), [f"{topic} qos=1 retain=0 "])
        last = self.peer()
        last.subscribe(topic, 1)
        last.expect_nothing()

    def test_will_on_abnormal_disconnect(self):
        """The will is published when the connection closes without DISCONNECT
        [MQTT-3.1.2-8], at its QoS, and discarded on a normal DISCONNECT [MQTT-3.1.2-10]."""
        topic = unique("will")
        watcher = self.peer()
        watcher.subscribe(topic, 2)

        def will(payload):
            w = dict(topic=topic, payload=payload, qos=1)
            if self.v5:
                props = Properties(PacketTypes.WILLMESSAGE)
                props.ContentType = "text/plain"
                props.UserProperty = ("who", payload)
                w["properties"] = props
            return w

        polite = self.peer(will=will("polite"))
        polite.disconnect()
        watcher.expect_nothing()

        rude = self.peer(will=will("rude"))
        rude.drop()
        message = watcher.next()
        self.assertEqual(repr(message), f"{topic} qos=1 retain=0 rude")
        if self.v5:
            self.assertEqual(message.properties.ContentType, "text/plain")
            self.assertEqual(message.properties.UserProperty, [("who", "rude")])
        watcher.expect_nothing()

    def test_shared_subscription(self):
        """Each message published to a $share group reaches exactly one member [MQTT 5 4.8.2];
        a plain subscriber to the same topic gets every one."""
        topic = unique("shared")
        group = f"$share/{unique('group')}/{topic}"
        members = [self.peer(), self.peer()]
        for m in members:
            m.subscribe(group, 1)
        plain = self.peer()
        plain.subscribe(topic, 1)
        pub = self.peer()
        n = 20
        for i in range(n):
            pub.publish(topic, str(i), 1)
        seen = []
        deadline = time.monotonic() + ARRIVE
        while len(seen) < n and time.monotonic() < deadline:
            for m in members:
                try:
                    seen.append(m.messages.get(timeout=0.01).payload)
                except queue.Empty:
                    pass
        self.assertEqual(sorted(seen, key=int), [str(i) for i in range(n)],
                         "each message exactly once across the group")
        self.assertEqual(len(plain.receive(n)), n)
        for m in members:
            m.expect_nothing()

    def test_persistent_session_resume(self):
        """A session that outlives the connection (3.1.1: Clean Session 0; 5.0: Clean Start 0
        and a Session Expiry Interval) resumes: CONNACK Session Present 1 [MQTT-3.2.2-2/3], the
        subscription kept and the QoS 1/2 messages published meanwhile delivered in order
        [MQTT-4.6.0-6], after a normal and after an abnormal disconnect. A clean start ends it.
        """
        client_id = unique("persistent")
        topic = unique("topic")
        expiry = 60 if self.v5 else None

        # MQTT 5: Clean Start 1 and an expiry; MQTT 3.1.1: Clean Session 0 from the start.
        s = Peer(self, self.PROTOCOL, client_id=client_id)
        present, _, _ = s.connect(clean=self.v5, session_expiry=expiry)
        self.assertFalse(present)
        s.subscribe(topic + "/#", 2)
        s.disconnect()

        pub = self.peer()
        queued = [(1, "queued 1"), (2, "queued 2"), (1, "queued 3")]
        for i, (qos, payload) in enumerate(queued):
            pub.publish(f"{topic}/{i}", payload, qos)

        s2 = Peer(self, self.PROTOCOL, client_id=client_id)
        present, _, _ = s2.connect(clean=False, session_expiry=expiry)
        self.assertTrue(present, "Session Present 0 on resuming the session")
        self.assertEqual(s2.receive(3), sorted(f"{topic}/{i} qos={qos} retain=0 {payload}"
                                               for i, (qos, payload) in enumerate(queued)))
        with s2.lock:
            self.assertEqual(s2.wire, [f"{topic}/{i} qos={qos}" for i, (qos, _) in enumerate(queued)],
                             "PUBLISH packets in the order published [MQTT-4.6.0-6]")
        topic += "/0"
        pub.publish(topic, "live", 2)
        self.assertEqual(s2.receive(1), [f"{topic} qos=2 retain=0 live"])

        # The session also survives a connection that breaks.
        s2.drop()
        pub.publish(topic, "after drop", 1)
        s3 = Peer(self, self.PROTOCOL, client_id=client_id)
        present, _, _ = s3.connect(clean=False, session_expiry=expiry)
        self.assertTrue(present, "Session Present 0 after an abnormal disconnect")
        self.assertEqual(s3.receive(1), [f"{topic} qos=1 retain=0 after drop"])
        s3.disconnect()

        # A clean start discards it [MQTT-3.1.2-4/6]. s4's session then ends with its
        # connection, which s4 drops with a will: the will shows that the broker has closed
        # that connection. (After a DISCONNECT, s5's CONNECT on another connection could reach
        # the broker first and take the session over while it still exists.)
        gone = unique("gone")
        pub.subscribe(gone, 1)
        s4 = Peer(self, self.PROTOCOL, client_id=client_id,
                  will=dict(topic=gone, payload="gone", qos=1))
        present, _, _ = s4.connect(clean=True, session_expiry=0 if self.v5 else None)
        self.assertFalse(present, "Session Present 1 with a clean start")
        s4.drop()
        self.assertEqual(repr(pub.next()), f"{gone} qos=1 retain=0 gone")
        pub.publish(topic, "nobody", 1)
        s5 = Peer(self, self.PROTOCOL, client_id=client_id)
        present, _, _ = s5.connect(clean=False, session_expiry=expiry)
        self.assertFalse(present, "Session Present 1 after a clean start ended the session")
        s5.expect_nothing()


class Mqtt311Test(Scenarios, unittest.TestCase):
    PROTOCOL = mqtt.MQTTv311


class Mqtt5Test(Scenarios, unittest.TestCase):
    PROTOCOL = mqtt.MQTTv5


if __name__ == "__main__":
    print(f"paho-mqtt {paho.mqtt.__version__} (Python {sys.version.split()[0]}) against "
          f"{HOST}:{PORT}", flush=True)
    unittest.main()

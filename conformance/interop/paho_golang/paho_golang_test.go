// Interop: github.com/eclipse/paho.golang (MQTT 5.0) against a simq broker at $SIMQ_BROKER.
//
// TestReadmeScenario ports the client test of the original simq README; the other tests add
// what a paho.golang user relies on: the QoS 2 handshake packet by packet, retained
// messages, two clients, shared subscriptions, properties, session resume and wills.
package paho_golang

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
)

// The original README's scenario: a client with a will (Will Delay Interval 200) and Receive
// Maximum 200 subscribes test/1 (QoS 1), test/2 (QoS 2), test/3 (QoS 0) and $share/aa/test/1,
// then publishes QoS 0, 1 and 2 and expects every acknowledgement to say Success.
func TestReadmeScenario(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect(t, "watcher")
	watcher.subscribe(t, []paho.SubscribeOptions{{Topic: willTopic, QoS: 1}}, []byte{1})

	c, ca := dial(t, &paho.Connect{
		ClientID:       uniqueName(t, "client"),
		KeepAlive:      30,
		CleanStart:     true,
		Properties:     &paho.ConnectProperties{ReceiveMaximum: u16(200)},
		WillMessage:    &paho.WillMessage{Topic: willTopic, Payload: []byte("am gone")},
		WillProperties: &paho.WillProperties{WillDelayInterval: u32(200)},
	})
	if ca.SessionPresent {
		t.Errorf("CONNACK Session Present = true for Clean Start, want false [MQTT-3.2.2-2]")
	}
	if ca.Properties != nil && !ca.Properties.SharedSubAvailable {
		t.Fatalf("CONNACK says Shared Subscription Available = 0")
	}

	c.subscribe(t, []paho.SubscribeOptions{
		{Topic: "test/1", QoS: 1},
		{Topic: "test/2", QoS: 2},
		{Topic: "test/3", QoS: 0},
		{Topic: "$share/aa/test/1", QoS: 0},
	}, []byte{1, 2, 0, 0})

	c.publish(t, &paho.Publish{Topic: "test/0", QoS: 0, Payload: []byte("no subscriber")})
	c.publish(t, &paho.Publish{Topic: "test/3", QoS: 0, Payload: []byte("test payload 0")})
	c.publish(t, &paho.Publish{Topic: "test/1", QoS: 1, Payload: []byte("test payload 1")})
	c.publish(t, &paho.Publish{Topic: "test/2", QoS: 2, Payload: []byte("test payload 2")})

	// test/1 matches both the plain and the shared subscription: one copy for each
	// [MQTT-3.3.4-2 (overlapping), 4.8.2: a shared subscription is a separate subscription].
	expectLines(t, c.receive(t, 4),
		"test/3 qos=0 retain=false test payload 0",
		"test/1 qos=1 retain=false test payload 1",
		"test/1 qos=0 retain=false test payload 1",
		"test/2 qos=2 retain=false test payload 2")
	c.expectNothing(t) // test/0 had no subscriber

	// A normal DISCONNECT (0x00) discards the will [MQTT-3.14.4-3]; with no session expiry the
	// session ends at once, so a will that was kept would be published right now.
	if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0}); err != nil {
		t.Fatalf("DISCONNECT: %v", err)
	}
	watcher.expectNothing(t)
}

// The QoS 2 exchange packet by packet with paho's codec, both directions:
// PUBLISH → PUBREC(0x00) → PUBREL → PUBCOMP(0x00), then the broker's PUBLISH to a QoS 2
// subscriber, answered PUBREC → PUBREL → PUBCOMP.
func TestQoS2HandshakeRaw(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "topic")
	conn, err := net.DialTimeout("tcp", brokerAddr(t), arriveTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	write := func(cp *packets.ControlPacket) {
		t.Helper()
		if _, err := cp.WriteTo(conn); err != nil {
			t.Fatalf("write %s: %v", cp.PacketType(), err)
		}
	}
	read := func(wantType byte) *packets.ControlPacket {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(arriveTimeout))
		cp, err := packets.ReadPacket(conn)
		if err != nil {
			t.Fatalf("reading a packet (want type %d): %v", wantType, err)
		}
		if cp.Type != wantType {
			t.Fatalf("got %s, want packet type %d", cp, wantType)
		}
		return cp
	}

	connect := packets.NewControlPacket(packets.CONNECT)
	connect.Content.(*packets.Connect).ClientID = uniqueName(t, "raw")
	connect.Content.(*packets.Connect).CleanStart = true
	connect.Content.(*packets.Connect).KeepAlive = 30
	write(connect)
	if rc := read(packets.CONNACK).Content.(*packets.Connack).ReasonCode; rc != 0 {
		t.Fatalf("CONNACK reason code 0x%02x", rc)
	}

	sub := packets.NewControlPacket(packets.SUBSCRIBE)
	sub.Content.(*packets.Subscribe).PacketID = 7
	sub.Content.(*packets.Subscribe).Subscriptions = []packets.SubOptions{{Topic: topic, QoS: 2}}
	write(sub)
	sa := read(packets.SUBACK).Content.(*packets.Suback)
	if sa.PacketID != 7 || !bytes.Equal(sa.Reasons, []byte{2}) {
		t.Fatalf("SUBACK %s, want packet id 7 and reason codes [2]", sa)
	}

	pub := packets.NewControlPacket(packets.PUBLISH)
	p := pub.Content.(*packets.Publish)
	p.Topic, p.QoS, p.PacketID, p.Payload = topic, 2, 4242, []byte("exactly once")
	write(pub)

	// The broker may forward the message to us (the subscriber) before or after it answers
	// PUBREC, and before or after PUBCOMP: collect all three.
	var in *packets.Publish
	gotRec, gotComp := false, false
	for !gotComp || in == nil {
		_ = conn.SetReadDeadline(time.Now().Add(arriveTimeout))
		cp, err := packets.ReadPacket(conn)
		if err != nil {
			t.Fatalf("waiting for PUBREC, PUBCOMP and PUBLISH: %v", err)
		}
		switch c := cp.Content.(type) {
		case *packets.Pubrec:
			if gotRec || c.PacketID != 4242 || c.ReasonCode != packets.PubrecSuccess {
				t.Fatalf("%s, want one PUBREC with packet id 4242 and reason code 0x00 (a subscriber exists)", c)
			}
			gotRec = true
			rel := packets.NewControlPacket(packets.PUBREL)
			rel.Content.(*packets.Pubrel).PacketID = 4242
			write(rel)
		case *packets.Pubcomp:
			if !gotRec || c.PacketID != 4242 || c.ReasonCode != packets.PubcompSuccess {
				t.Fatalf("%s, want packet id 4242 and reason code 0x00, after PUBREC", c)
			}
			gotComp = true
		case *packets.Publish:
			if in != nil {
				t.Fatalf("second PUBLISH %s", c)
			}
			in = c
		default:
			t.Fatalf("unexpected %s", cp)
		}
	}
	if in.Topic != topic || in.QoS != 2 || string(in.Payload) != "exactly once" || in.PacketID == 0 {
		t.Fatalf("received %s, want QoS 2 %q on %s with a packet id", in, "exactly once", topic)
	}

	ack := packets.NewControlPacket(packets.PUBREC)
	ack.Content.(*packets.Pubrec).PacketID = in.PacketID
	write(ack)
	if rel := read(packets.PUBREL).Content.(*packets.Pubrel); rel.PacketID != in.PacketID {
		t.Fatalf("%s, want packet id %d", rel, in.PacketID)
	}
	comp := packets.NewControlPacket(packets.PUBCOMP)
	comp.Content.(*packets.Pubcomp).PacketID = in.PacketID
	write(comp)

	// Still healthy afterwards: PINGREQ is answered.
	write(packets.NewControlPacket(packets.PINGREQ))
	read(packets.PINGRESP)
	write(packets.NewControlPacket(packets.DISCONNECT))
}

// A retained message is delivered to a later subscriber with RETAIN set [MQTT-3.3.1-6], and an
// empty retained payload deletes it [MQTT-3.3.1-10].
func TestRetainedMessageRoundTrip(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "retained")
	pub := connect(t, "publisher")
	// No subscriber yet: PUBACK may say 0x10 (No matching subscribers) instead of 0x00.
	pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: []byte("kept")}, 0x10)

	late := connect(t, "late")
	late.subscribe(t, []paho.SubscribeOptions{{Topic: topic, QoS: 1}}, []byte{1})
	expectLines(t, late.receive(t, 1), topic+" qos=1 retain=true kept")

	// A live subscriber gets new messages with RETAIN cleared (Retain As Published = 0)
	// [MQTT-3.3.1-12]; the stored one is replaced.
	pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: []byte("newer")})
	expectLines(t, late.receive(t, 1), topic+" qos=1 retain=false newer")
	later := connect(t, "later")
	later.subscribe(t, []paho.SubscribeOptions{{Topic: topic, QoS: 0}}, []byte{0})
	expectLines(t, later.receive(t, 1), topic+" qos=0 retain=true newer")

	pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: nil})
	expectLines(t, late.receive(t, 1), topic+" qos=1 retain=false ")
	last := connect(t, "last")
	last.subscribe(t, []paho.SubscribeOptions{{Topic: topic, QoS: 1}}, []byte{1})
	last.expectNothing(t)
}

// Two paho clients: QoS is the minimum of the published and the granted QoS
// [MQTT-3.8.4-8]; wildcards; No Local [MQTT-3.8.3-3]; properties forwarded unchanged.
func TestTwoClients(t *testing.T) {
	t.Parallel()
	base := uniqueName(t, "topic")
	a := connect(t, "a")
	b := connect(t, "b")
	a.subscribe(t, []paho.SubscribeOptions{
		{Topic: base + "/q1/+", QoS: 1},
		{Topic: base + "/q2/#", QoS: 2},
	}, []byte{1, 2})
	b.subscribe(t, []paho.SubscribeOptions{{Topic: base + "/q2/#", QoS: 2, NoLocal: true}}, []byte{2})

	for qos := byte(0); qos <= 2; qos++ {
		b.publish(t, &paho.Publish{Topic: fmt.Sprintf("%s/q1/%d", base, qos), QoS: qos,
			Payload: []byte(fmt.Sprintf("b%d", qos))})
		b.publish(t, &paho.Publish{Topic: fmt.Sprintf("%s/q2/x/%d", base, qos), QoS: qos,
			Payload: []byte(fmt.Sprintf("b%d", qos))})
	}
	expectLines(t, a.receive(t, 6),
		base+"/q1/0 qos=0 retain=false b0",
		base+"/q1/1 qos=1 retain=false b1",
		base+"/q1/2 qos=1 retain=false b2",
		base+"/q2/x/0 qos=0 retain=false b0",
		base+"/q2/x/1 qos=1 retain=false b1",
		base+"/q2/x/2 qos=2 retain=false b2")
	b.expectNothing(t) // No Local: b's own messages do not come back to b

	// Request/response and user properties travel unchanged [MQTT-3.3.2-15..20, 3.3.2.3.7].
	pfi := byte(1)
	a.publish(t, &paho.Publish{Topic: base + "/q2/props", QoS: 1, Payload: []byte("{}"),
		Properties: &paho.PublishProperties{
			ContentType:     "application/json",
			ResponseTopic:   base + "/reply",
			CorrelationData: []byte{1, 2, 3},
			PayloadFormat:   &pfi,
			User:            paho.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}},
		}})
	m := b.next(t)
	if m.Topic != base+"/q2/props" || m.Properties == nil {
		t.Fatalf("received %s, want %s/q2/props with properties", describe(m), base)
	}
	pr := m.Properties
	if pr.ContentType != "application/json" || pr.ResponseTopic != base+"/reply" ||
		!bytes.Equal(pr.CorrelationData, []byte{1, 2, 3}) || pr.PayloadFormat == nil ||
		*pr.PayloadFormat != 1 {
		t.Errorf("properties not forwarded unchanged: %+v", pr)
	}
	if fmt.Sprint(pr.User) != fmt.Sprint(paho.UserProperties{{Key: "k", Value: "v"}, {Key: "k", Value: "w"}}) {
		t.Errorf("user properties %v, want [k=v k=w] in order [MQTT-3.3.2-18]", pr.User)
	}
}

// A shared subscription delivers each message to exactly one member of the group [4.8.2].
func TestSharedSubscriptionAcrossClients(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "topic")
	filter := "$share/" + uniqueName(t, "group") + "/" + topic
	a := connect(t, "a")
	b := connect(t, "b")
	a.subscribe(t, []paho.SubscribeOptions{{Topic: filter, QoS: 1}}, []byte{1})
	b.subscribe(t, []paho.SubscribeOptions{{Topic: filter, QoS: 1}}, []byte{1})
	pub := connect(t, "pub")
	const n = 20
	for i := 0; i < n; i++ {
		pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(fmt.Sprint(i))})
	}
	seen := map[string]int{}
	deadline := time.After(arriveTimeout)
	for total := 0; total < n; total++ {
		select {
		case m := <-a.messages:
			seen[string(m.Payload)]++
		case m := <-b.messages:
			seen[string(m.Payload)]++
		case <-deadline:
			t.Fatalf("the group received %d of %d messages", total, n)
		}
	}
	for i := 0; i < n; i++ {
		if seen[fmt.Sprint(i)] != 1 {
			t.Errorf("message %d delivered %d times to the group, want once", i, seen[fmt.Sprint(i)])
		}
	}
	a.expectNothing(t)
	b.expectNothing(t)
}

// Clean Start 0 with a Session Expiry Interval resumes the session: Session Present = 1
// [MQTT-3.2.2-3] and the QoS 1 messages published while the client was away are delivered
// [MQTT-3.1.2-5 / 4.1].
func TestSessionResume(t *testing.T) {
	t.Parallel()
	id := uniqueName(t, "client")
	topic := uniqueName(t, "topic")
	props := func() *paho.ConnectProperties {
		return &paho.ConnectProperties{SessionExpiryInterval: u32(60)}
	}

	s, ca := dial(t, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30, Properties: props()})
	if ca.SessionPresent {
		t.Fatalf("first CONNACK: Session Present = true")
	}
	s.subscribe(t, []paho.SubscribeOptions{{Topic: topic, QoS: 1}}, []byte{1})
	s.close()

	pub := connect(t, "pub")
	for i := 1; i <= 3; i++ {
		pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(fmt.Sprintf("queued %d", i))})
	}

	// With a will, for the end of the test.
	gone := topic + "/gone"
	s2, ca := dial(t, &paho.Connect{ClientID: id, CleanStart: false, KeepAlive: 30, Properties: props(),
		WillMessage: &paho.WillMessage{Topic: gone, QoS: 1, Payload: []byte("gone")}})
	if !ca.SessionPresent {
		t.Fatalf("resumed CONNACK: Session Present = false, want true [MQTT-3.2.2-3]")
	}
	for i := 1; i <= 3; i++ { // in order [MQTT-4.6.0-6]
		if m := s2.next(t); describe(m) != fmt.Sprintf("%s qos=1 retain=false queued %d", topic, i) {
			t.Fatalf("message %d: %s", i, describe(m))
		}
	}
	// The subscription itself was kept.
	pub.publish(t, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte("live")})
	expectLines(t, s2.receive(t, 1), topic+" qos=1 retain=false live")

	// Ending with Session Expiry 0 on DISCONNECT, then Clean Start 0: no session. The
	// DISCONNECT and the next CONNECT travel on different connections, so the second could
	// reach the broker first; reason 0x04 (Disconnect with Will Message) makes the broker
	// publish s2's will when it reads the DISCONNECT, and the test waits for that.
	pub.subscribe(t, []paho.SubscribeOptions{{Topic: gone, QoS: 1}}, []byte{1})
	if err := s2.Disconnect(&paho.Disconnect{ReasonCode: 0x04,
		Properties: &paho.DisconnectProperties{SessionExpiryInterval: u32(0)}}); err != nil {
		t.Fatal(err)
	}
	expectLines(t, pub.receive(t, 1), gone+" qos=1 retain=false gone")
	_, ca = dial(t, &paho.Connect{ClientID: id, CleanStart: false, KeepAlive: 30})
	if ca.SessionPresent {
		t.Errorf("after DISCONNECT with Session Expiry 0: Session Present = true, want false")
	}
}

// willClient connects with a will on `willTopic` and the given delays.
func willClient(t *testing.T, willTopic string, willDelay, sessionExpiry uint32, cleanStart bool, id string) *v5Client {
	t.Helper()
	c, _ := dial(t, &paho.Connect{
		ClientID:       id,
		CleanStart:     cleanStart,
		KeepAlive:      30,
		Properties:     &paho.ConnectProperties{SessionExpiryInterval: u32(sessionExpiry)},
		WillMessage:    &paho.WillMessage{Topic: willTopic, QoS: 1, Payload: []byte("gone: " + id)},
		WillProperties: &paho.WillProperties{WillDelayInterval: u32(willDelay)},
	})
	return c
}

// With a Will Delay Interval of 1 s (and a longer session), the will is published about a
// second after the network connection is lost [MQTT-3.1.2-8, 3.1.3.2.2].
func TestWillAfterDelay(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect(t, "watcher")
	watcher.subscribe(t, []paho.SubscribeOptions{{Topic: willTopic, QoS: 1}}, []byte{1})

	id := uniqueName(t, "client")
	c := willClient(t, willTopic, 1, 10, true, id)
	start := time.Now()
	c.drop()
	m := watcher.next(t)
	elapsed := time.Since(start)
	if describe(m) != willTopic+" qos=1 retain=false gone: "+id {
		t.Fatalf("received %s", describe(m))
	}
	if elapsed < 800*time.Millisecond {
		t.Errorf("will published %v after the connection was lost, before the 1 s Will Delay Interval", elapsed)
	}
}

// The will is published as soon as the session ends, even if the Will Delay Interval is
// longer: here the session ends with the connection (Session Expiry 0), as in the README's
// scenario with its delay of 200 s [3.1.3.2.2: "or the Session ends, whichever happens first"].
func TestWillWhenSessionEndsBeforeDelay(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect(t, "watcher")
	watcher.subscribe(t, []paho.SubscribeOptions{{Topic: willTopic, QoS: 1}}, []byte{1})
	id := uniqueName(t, "client")
	c := willClient(t, willTopic, 200, 0, true, id)
	c.drop()
	expectLines(t, watcher.receive(t, 1), willTopic+" qos=1 retain=false gone: "+id)
}

// Reconnecting before the Will Delay Interval has passed cancels the will [MQTT-3.1.3-9].
func TestWillCancelledByReconnect(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect(t, "watcher")
	watcher.subscribe(t, []paho.SubscribeOptions{{Topic: willTopic, QoS: 1}}, []byte{1})
	id := uniqueName(t, "client")
	c := willClient(t, willTopic, 2, 30, true, id)
	c.drop()
	c2, ca := dial(t, &paho.Connect{ClientID: id, CleanStart: false, KeepAlive: 30,
		Properties: &paho.ConnectProperties{SessionExpiryInterval: u32(30)}})
	if !ca.SessionPresent {
		t.Errorf("reconnect: Session Present = false, want true")
	}
	// Watch past the original 2 s delay.
	select {
	case m := <-watcher.messages:
		t.Fatalf("will published although the client reconnected in time: %s", describe(m))
	case <-time.After(3 * time.Second):
	}
	_ = c2.Disconnect(&paho.Disconnect{ReasonCode: 0,
		Properties: &paho.DisconnectProperties{SessionExpiryInterval: u32(0)}})
}

// DISCONNECT with reason code 0x04 (Disconnect with Will Message) publishes the will
// [3.14.2.1].
func TestDisconnectWithWillMessage(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect(t, "watcher")
	watcher.subscribe(t, []paho.SubscribeOptions{{Topic: willTopic, QoS: 1}}, []byte{1})
	id := uniqueName(t, "client")
	c := willClient(t, willTopic, 0, 0, true, id)
	if err := c.Disconnect(&paho.Disconnect{ReasonCode: 0x04}); err != nil {
		t.Fatal(err)
	}
	expectLines(t, watcher.receive(t, 1), willTopic+" qos=1 retain=false gone: "+id)
}

// Receive Maximum: a client that allows 2 unacknowledged QoS 1 messages still gets all of
// them once it acknowledges [MQTT-3.3.4-9].
func TestReceiveMaximumFlowControl(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "topic")
	c, _ := dial(t, &paho.Connect{ClientID: uniqueName(t, "client"), CleanStart: true, KeepAlive: 30,
		Properties: &paho.ConnectProperties{ReceiveMaximum: u16(2)}})
	c.subscribe(t, []paho.SubscribeOptions{{Topic: topic, QoS: 1}}, []byte{1})
	pub := connect(t, "pub")
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	const n = 50
	for i := 0; i < n; i++ {
		if _, err := pub.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if m := c.next(t); string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d: %s (order must be kept)", i, describe(m))
		}
	}
}

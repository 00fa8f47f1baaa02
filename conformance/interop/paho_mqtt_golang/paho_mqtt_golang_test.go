// Interop: github.com/eclipse/paho.mqtt.golang (MQTT 3.1.1, and 3.1) against a simq broker
// at $SIMQ_BROKER, plus paho.mqtt.golang and paho.golang (MQTT 5) exchanging messages.
package paho_mqtt_golang

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// Publish at QoS 0, 1 and 2 to a subscriber granted QoS 2, and to one granted QoS 1 (the
// delivered QoS is the lower of the two [MQTT-3.8.4-6]).
func TestPublishSubscribeQoS012(t *testing.T) {
	t.Parallel()
	base := uniqueName(t, "topic")
	sub2 := connect3(t, "sub2")
	sub2.subscribe(t, base+"/#", 2)
	sub1 := connect3(t, "sub1")
	sub1.subscribe(t, base+"/+", 1)
	pub := connect3(t, "pub")
	for qos := byte(0); qos <= 2; qos++ {
		pub.publish(t, fmt.Sprintf("%s/%d", base, qos), qos, false, fmt.Sprintf("payload %d", qos))
	}
	expectLines(t, sub2.inbox.receive(t, 3),
		base+"/0 qos=0 retain=false payload 0",
		base+"/1 qos=1 retain=false payload 1",
		base+"/2 qos=2 retain=false payload 2")
	expectLines(t, sub1.inbox.receive(t, 3),
		base+"/0 qos=0 retain=false payload 0",
		base+"/1 qos=1 retain=false payload 1",
		base+"/2 qos=1 retain=false payload 2")
	pub.inbox.expectNothing(t)
}

// MQTT 3.1 ("MQIsdp", protocol level 3) clients are served too. MQTT 3.1 allows client ids
// of 1 to 23 characters (a longer one gets CONNACK 2, identifier rejected).
func TestMQTT31Client(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "topic")
	suffix := fmt.Sprintf("%d-%d", os.Getpid(), idCounter.Add(1))
	opts, sub := options(t, "v31sub-"+suffix, 3)
	sub.start(t, opts)
	sub.subscribe(t, topic, 2)
	opts, pub := options(t, "v31pub-"+suffix, 3)
	pub.start(t, opts)
	pub.publish(t, topic, 2, false, "from 3.1")
	expectLines(t, sub.inbox.receive(t, 1), topic+" qos=2 retain=false from 3.1")
}

// A retained message reaches later subscribers with RETAIN set [MQTT-3.3.1-8] (live
// subscribers get RETAIN 0 [MQTT-3.3.1-9]); a zero-length retained message deletes it
// [MQTT-3.3.1-10].
func TestRetained(t *testing.T) {
	t.Parallel()
	topic := uniqueName(t, "topic")
	pub := connect3(t, "pub")
	pub.publish(t, topic, 1, true, "retained")

	live := connect3(t, "live")
	live.subscribe(t, topic, 1)
	expectLines(t, live.inbox.receive(t, 1), topic+" qos=1 retain=true retained")
	pub.publish(t, topic, 2, true, "replaced")
	expectLines(t, live.inbox.receive(t, 1), topic+" qos=1 retain=false replaced")

	late := connect3(t, "late")
	late.subscribe(t, topic, 2)
	expectLines(t, late.inbox.receive(t, 1), topic+" qos=2 retain=true replaced")

	pub.publish(t, topic, 0, true, "")
	expectLines(t, live.inbox.receive(t, 1), topic+" qos=0 retain=false ")
	last := connect3(t, "last")
	last.subscribe(t, topic, 1)
	last.inbox.expectNothing(t)
}

// The will is published when the network connection closes without DISCONNECT
// [MQTT-3.1.2-8], and discarded on DISCONNECT [MQTT-3.1.2-10].
func TestWill(t *testing.T) {
	t.Parallel()
	willTopic := uniqueName(t, "will")
	watcher := connect3(t, "watcher")
	watcher.subscribe(t, willTopic, 1)

	// Clean DISCONNECT: no will.
	opts, polite := options(t, uniqueName(t, "polite"), 4)
	polite.start(t, opts.SetWill(willTopic, "polite is gone", 1, false))
	polite.Disconnect(100)
	watcher.inbox.expectNothing(t)

	// TCP connection closed under the client: the will, with its QoS.
	id := uniqueName(t, "rude")
	opts, rude := options(t, id, 4)
	rude.start(t, opts.SetWill(willTopic, "rude is gone", 1, false))
	rude.drop()
	expectLines(t, watcher.inbox.receive(t, 1), willTopic+" qos=1 retain=false rude is gone")

	// A retained will stays for later subscribers.
	opts, retained := options(t, uniqueName(t, "retained"), 4)
	retained.start(t, opts.SetWill(willTopic+"/r", "retained will", 2, true))
	retained.drop()
	late := connect3(t, "late")
	late.subscribe(t, willTopic+"/r", 2)
	expectLines(t, late.inbox.receive(t, 1), willTopic+"/r qos=2 retain=true retained will")
	pub := connect3(t, "cleanup")
	pub.publish(t, willTopic+"/r", 0, true, "")
}

// CleanSession 0: the session (subscription and QoS 1/2 messages published meanwhile)
// survives a disconnect, CONNACK says Session Present [MQTT-3.2.2-2], and CleanSession 1
// discards it [MQTT-3.1.2-6, MQTT-3.2.2-1].
func TestPersistentSession(t *testing.T) {
	t.Parallel()
	id := uniqueName(t, "client")
	topic := uniqueName(t, "topic")

	opts, s := options(t, id, 4)
	opts.SetCleanSession(false)
	s.start(t, opts) // a leftover session would not matter: ids are unique
	s.subscribe(t, topic, 2)
	s.Disconnect(100)

	pub := connect3(t, "pub")
	pub.publish(t, topic, 1, false, "queued 1")
	pub.publish(t, topic, 2, false, "queued 2")
	pub.publish(t, topic, 1, false, "queued 3")

	opts, s2 := options(t, id, 4)
	opts.SetCleanSession(false)
	if !s2.start(t, opts) {
		t.Fatalf("CONNACK Session Present = 0 on resuming a CleanSession=0 session [MQTT-3.2.2-2]")
	}
	for i, want := range []string{ // in order [MQTT-4.6.0-6]
		topic + " qos=1 retain=false queued 1",
		topic + " qos=2 retain=false queued 2",
		topic + " qos=1 retain=false queued 3",
	} {
		if got := s2.inbox.next(t); got != want {
			t.Fatalf("queued message %d: %s, want %s", i+1, got, want)
		}
	}
	pub.publish(t, topic, 2, false, "live")
	expectLines(t, s2.inbox.receive(t, 1), topic+" qos=2 retain=false live")

	// Session kept across an abnormal disconnect as well.
	s2.drop()
	pub.publish(t, topic, 1, false, "after drop")
	opts, s3 := options(t, id, 4)
	opts.SetCleanSession(false)
	if !s3.start(t, opts) {
		t.Fatalf("CONNACK Session Present = 0 after an abnormal disconnect")
	}
	// s2's acknowledgements of the last messages may not have left before the connection was
	// cut: those may come again (QoS 1/2 are at least once across a dropped connection, and
	// paho starts with a fresh in-memory store), but nothing else may.
	for {
		got := s3.inbox.next(t)
		if got == topic+" qos=1 retain=false after drop" {
			break
		}
		if got != topic+" qos=1 retain=false queued 3" && got != topic+" qos=2 retain=false live" {
			t.Fatalf("after resuming: %s, want %q", got, "after drop")
		}
	}
	s3.Disconnect(100)

	// s4's clean session ends with its connection, which s4 cuts with a will: the will shows
	// the broker has closed it. (After a DISCONNECT, s5's CONNECT on another connection could
	// reach the broker first and take over s4's session while it still exists.)
	gone := topic + "/gone"
	pub.subscribe(t, gone, 1)
	opts, s4 := options(t, id, 4)
	if s4.start(t, opts.SetCleanSession(true).SetWill(gone, "gone", 1, false)) {
		t.Errorf("CONNACK Session Present = 1 with CleanSession=1 [MQTT-3.2.2-1]")
	}
	s4.drop()
	expectLines(t, pub.inbox.receive(t, 1), gone+" qos=1 retain=false gone")
	opts, s5 := options(t, id, 4)
	opts.SetCleanSession(false)
	if s5.start(t, opts) {
		t.Errorf("CONNACK Session Present = 1 after a CleanSession=1 connection ended the session")
	}
	pub.publish(t, topic, 1, false, "nobody")
	s5.inbox.expectNothing(t)
}

// MQTT 3.1.1 and MQTT 5 clients on the same topics, both ways, QoS 0/1/2.
func TestCrossVersion(t *testing.T) {
	t.Parallel()
	base := uniqueName(t, "topic")
	v3 := connect3(t, "v311")
	v5 := connect5(t, "v5")
	v3.subscribe(t, base+"/to3/#", 2)
	v5.subscribe(t, base+"/to5/#", 2)

	for qos := byte(0); qos <= 2; qos++ {
		// MQTT 5 properties are simply not part of the 3.1.1 PUBLISH the broker sends.
		v5.publish(t, &paho.Publish{Topic: fmt.Sprintf("%s/to3/%d", base, qos), QoS: qos,
			Payload: []byte(fmt.Sprintf("from v5 at %d", qos)),
			Properties: &paho.PublishProperties{ContentType: "text/plain",
				User: paho.UserProperties{{Key: "k", Value: "v"}}}})
		v3.publish(t, fmt.Sprintf("%s/to5/%d", base, qos), qos, false, fmt.Sprintf("from v3.1.1 at %d", qos))
	}
	expectLines(t, v3.inbox.receive(t, 3),
		base+"/to3/0 qos=0 retain=false from v5 at 0",
		base+"/to3/1 qos=1 retain=false from v5 at 1",
		base+"/to3/2 qos=2 retain=false from v5 at 2")
	expectLines(t, v5.inbox.receive(t, 3),
		base+"/to5/0 qos=0 retain=false from v3.1.1 at 0",
		base+"/to5/1 qos=1 retain=false from v3.1.1 at 1",
		base+"/to5/2 qos=2 retain=false from v3.1.1 at 2")

	// A retained message set by one version is served to the other.
	v3.publish(t, base+"/to5/retained", 1, true, "kept by v3.1.1")
	expectLines(t, v5.inbox.receive(t, 1), base+"/to5/retained qos=1 retain=false kept by v3.1.1")
	late := connect5(t, "late-v5")
	late.subscribe(t, base+"/to5/retained", 1)
	expectLines(t, late.inbox.receive(t, 1), base+"/to5/retained qos=1 retain=true kept by v3.1.1")
	v3.publish(t, base+"/to5/retained", 1, true, "") // delete it; live subscribers see it
	expectLines(t, v5.inbox.receive(t, 1), base+"/to5/retained qos=1 retain=false ")

	// Both on one shared subscription: each message to exactly one of them.
	group := "$share/" + uniqueName(t, "group") + "/" + base + "/shared"
	v3.subscribe(t, group, 1)
	v5.subscribe(t, group, 1)
	const n = 10
	for i := 0; i < n; i++ {
		v3.publish(t, base+"/shared", 1, false, fmt.Sprint(i))
	}
	seen := map[string]int{}
	deadline := time.After(arriveTimeout)
	for total := 0; total < n; total++ {
		select {
		case m := <-v3.inbox.ch:
			seen[m]++
		case m := <-v5.inbox.ch:
			seen[m]++
		case <-deadline:
			t.Fatalf("the shared group received %d of %d messages: %v", total, n, seen)
		}
	}
	for i := 0; i < n; i++ {
		if m := describe(base+"/shared", 1, false, []byte(fmt.Sprint(i))); seen[m] != 1 {
			t.Errorf("%s delivered %d times to the group, want once", m, seen[m])
		}
	}
}

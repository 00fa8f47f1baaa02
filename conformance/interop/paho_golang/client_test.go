// Helpers shared by the paho.golang (MQTT 5) interop tests: a connected paho client whose
// received PUBLISH packets land in a channel, and waits with deadlines (never fixed sleeps,
// except where a test must show that something does NOT arrive).
package paho_golang

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// How long a test waits for something that should happen, and how long it watches for
// something that should not.
const (
	arriveTimeout = 5 * time.Second
	silenceWindow = 700 * time.Millisecond
)

// brokerAddr is the simq broker under test, host:port. The Bazel wrapper
// (//conformance/interop:paho_golang_test) starts a fresh broker and sets SIMQ_BROKER.
func brokerAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("SIMQ_BROKER")
	if addr == "" {
		t.Fatal("SIMQ_BROKER is not set: run `bazel test //conformance/interop:paho_golang_test`, " +
			"or start a broker and set SIMQ_BROKER=127.0.0.1:PORT")
	}
	return addr
}

var idCounter atomic.Int64

// uniqueName gives each test its own client ids and topics, so that tests can run in
// parallel against one broker.
func uniqueName(t *testing.T, what string) string {
	return fmt.Sprintf("%s-%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "_"), what, os.Getpid(),
		idCounter.Add(1))
}

func u16(v uint16) *uint16 { return &v }
func u32(v uint32) *uint32 { return &v }

// v5Client is one paho.golang client on its own TCP connection.
type v5Client struct {
	*paho.Client
	conn     net.Conn
	messages chan *paho.Publish
	id       string
}

// dial opens a TCP connection and sends CONNECT `cp`; the test fails unless the CONNACK has
// reason code 0x00 (Success). The client is disconnected when the test ends.
func dial(t *testing.T, cp *paho.Connect) (*v5Client, *paho.Connack) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", brokerAddr(t), arriveTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", brokerAddr(t), err)
	}
	c := &v5Client{conn: conn, messages: make(chan *paho.Publish, 1000), id: cp.ClientID}
	c.Client = paho.NewClient(paho.ClientConfig{
		ClientID: cp.ClientID,
		Conn:     conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(r paho.PublishReceived) (bool, error) {
				c.messages <- r.Packet
				return true, nil
			},
		},
		// Errors after a test closed the connection on purpose are expected.
		OnClientError: func(error) {},
	})
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	ca, err := c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		t.Fatalf("CONNECT %s: %v", cp.ClientID, err)
	}
	if ca.ReasonCode != 0 {
		conn.Close()
		t.Fatalf("CONNACK for %s: reason code 0x%02x, want 0x00 (Success)", cp.ClientID, ca.ReasonCode)
	}
	t.Cleanup(func() { c.close() })
	return c, ca
}

// connect is dial with a clean start and no other options.
func connect(t *testing.T, what string) *v5Client {
	t.Helper()
	c, _ := dial(t, &paho.Connect{ClientID: uniqueName(t, what), CleanStart: true, KeepAlive: 30})
	return c
}

// close sends DISCONNECT (reason 0x00) if the connection is still up.
func (c *v5Client) close() {
	select {
	case <-c.Done():
	default:
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
	}
	c.conn.Close()
}

// drop closes the TCP connection without DISCONNECT: an abnormal disconnect, as far as the
// broker can tell (the will is published).
func (c *v5Client) drop() {
	c.conn.Close()
	select {
	case <-c.Done():
	case <-time.After(arriveTimeout):
	}
}

// subscribe subscribes and checks each SUBACK reason code against `want`.
func (c *v5Client) subscribe(t *testing.T, subs []paho.SubscribeOptions, want []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: subs})
	if err != nil {
		t.Fatalf("SUBSCRIBE %v: %v", subs, err)
	}
	if string(sa.Reasons) != string(want) {
		t.Fatalf("SUBACK reason codes %v, want %v", sa.Reasons, want)
	}
}

// publish publishes and requires the acknowledgement's reason code to be 0x00 (Success) or
// one of `alsoOK`: PUBACK for QoS 1, PUBCOMP (after a successful PUBREC) for QoS 2.
func (c *v5Client) publish(t *testing.T, p *paho.Publish, alsoOK ...byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	resp, err := c.Publish(ctx, p)
	if err != nil {
		t.Fatalf("PUBLISH %s QoS %d: %v", p.Topic, p.QoS, err)
	}
	if resp.ReasonCode != 0 && !bytes.Contains(alsoOK, []byte{resp.ReasonCode}) {
		t.Fatalf("PUBLISH %s QoS %d acknowledged with reason code 0x%02x, want 0x00",
			p.Topic, p.QoS, resp.ReasonCode)
	}
}

// next returns the next message received, failing the test after arriveTimeout.
func (c *v5Client) next(t *testing.T) *paho.Publish {
	t.Helper()
	select {
	case m := <-c.messages:
		return m
	case <-time.After(arriveTimeout):
		t.Fatalf("%s: no message within %v", c.id, arriveTimeout)
		return nil
	}
}

// receive collects `n` messages and returns them as sorted "topic qos=Q retain=R payload"
// lines, for order-independent comparison.
func (c *v5Client) receive(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	deadline := time.After(arriveTimeout)
	for len(got) < n {
		select {
		case m := <-c.messages:
			got = append(got, describe(m))
		case <-deadline:
			t.Fatalf("%s: received %d of %d messages within %v: %q", c.id, len(got), n,
				arriveTimeout, got)
		}
	}
	sort.Strings(got)
	return got
}

// expectNothing fails if a message arrives within silenceWindow.
func (c *v5Client) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case m := <-c.messages:
		t.Fatalf("%s: unexpected message %s", c.id, describe(m))
	case <-time.After(silenceWindow):
	}
}

func describe(m *paho.Publish) string {
	return fmt.Sprintf("%s qos=%d retain=%t %s", m.Topic, m.QoS, m.Retain, m.Payload)
}

func expectLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("received:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

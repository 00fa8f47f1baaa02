// Helpers for the paho.mqtt.golang (MQTT 3.1.1 / 3.1) interop tests, and a minimal
// paho.golang (MQTT 5) client for the cross-version tests.
package paho_mqtt_golang

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// How long a test waits for something that should happen, and how long it watches for
// something that should not.
const (
	arriveTimeout = 5 * time.Second
	silenceWindow = 700 * time.Millisecond
)

// brokerAddr is the simq broker under test, host:port. The Bazel wrapper
// (//conformance/interop:paho_mqtt_golang_test) starts a fresh broker and sets SIMQ_BROKER.
func brokerAddr(t *testing.T) string {
	t.Helper()
	addr := os.Getenv("SIMQ_BROKER")
	if addr == "" {
		t.Fatal("SIMQ_BROKER is not set: run `bazel test //conformance/interop:paho_mqtt_golang_test`, " +
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

// message is what a test compares: "topic qos=Q retain=R payload".
func describe(topic string, qos byte, retained bool, payload []byte) string {
	return fmt.Sprintf("%s qos=%d retain=%t %s", topic, qos, retained, payload)
}

// inbox collects received messages.
type inbox struct {
	name string
	ch   chan string
}

func newInbox(name string) *inbox { return &inbox{name: name, ch: make(chan string, 1000)} }

func (b *inbox) handler(_ mqtt.Client, m mqtt.Message) {
	b.ch <- describe(m.Topic(), m.Qos(), m.Retained(), m.Payload())
}

// receive collects `n` messages, sorted for order-independent comparison.
func (b *inbox) receive(t *testing.T, n int) []string {
	t.Helper()
	var got []string
	deadline := time.After(arriveTimeout)
	for len(got) < n {
		select {
		case m := <-b.ch:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("%s: received %d of %d messages within %v: %q", b.name, len(got), n, arriveTimeout, got)
		}
	}
	sort.Strings(got)
	return got
}

// next returns the next message, in arrival order.
func (b *inbox) next(t *testing.T) string {
	t.Helper()
	select {
	case m := <-b.ch:
		return m
	case <-time.After(arriveTimeout):
		t.Fatalf("%s: no message within %v", b.name, arriveTimeout)
		return ""
	}
}

func (b *inbox) expectNothing(t *testing.T) {
	t.Helper()
	select {
	case m := <-b.ch:
		t.Fatalf("%s: unexpected message %s", b.name, m)
	case <-time.After(silenceWindow):
	}
}

func expectLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("received:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// v3Client is a paho.mqtt.golang client whose TCP connection the test can cut.
type v3Client struct {
	mqtt.Client
	inbox *inbox
	mu    sync.Mutex
	conn  net.Conn
}

// options for a client that never reconnects by itself and sends everything it receives to
// its inbox.
func options(t *testing.T, id string, version uint) (*mqtt.ClientOptions, *v3Client) {
	c := &v3Client{inbox: newInbox(id)}
	opts := mqtt.NewClientOptions().
		AddBroker("tcp://" + brokerAddr(t)).
		SetClientID(id).
		SetProtocolVersion(version).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetKeepAlive(30 * time.Second).
		SetConnectTimeout(arriveTimeout).
		SetOrderMatters(true).
		SetDefaultPublishHandler(c.inbox.handler).
		SetCustomOpenConnectionFn(func(uri *url.URL, _ mqtt.ClientOptions) (net.Conn, error) {
			conn, err := net.DialTimeout("tcp", uri.Host, arriveTimeout)
			c.mu.Lock()
			c.conn = conn
			c.mu.Unlock()
			return conn, err
		})
	return opts, c
}

// start connects `c` with `opts`; the test fails unless CONNACK accepted it. Returns
// CONNACK's Session Present.
func (c *v3Client) start(t *testing.T, opts *mqtt.ClientOptions) bool {
	t.Helper()
	c.Client = mqtt.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(arriveTimeout) || tok.Error() != nil {
		t.Fatalf("CONNECT %s: %v (return code %d)", c.inbox.name, tok.Error(), tok.(*mqtt.ConnectToken).ReturnCode())
	}
	t.Cleanup(func() {
		if c.IsConnectionOpen() {
			c.Disconnect(100)
		}
	})
	return tok.(*mqtt.ConnectToken).SessionPresent()
}

// connect3 starts a clean-session MQTT 3.1.1 client.
func connect3(t *testing.T, what string) *v3Client {
	t.Helper()
	opts, c := options(t, uniqueName(t, what), 4)
	c.start(t, opts)
	return c
}

// drop cuts the TCP connection without DISCONNECT.
func (c *v3Client) drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		c.conn.Close()
	}
}

func (c *v3Client) subscribe(t *testing.T, filter string, qos byte) {
	t.Helper()
	tok := c.Subscribe(filter, qos, nil)
	if !tok.WaitTimeout(arriveTimeout) || tok.Error() != nil {
		t.Fatalf("SUBSCRIBE %s: %v", filter, tok.Error())
	}
	// paho.mqtt.golang keys the result by the filter without "$share/<group>/".
	key := filter
	if strings.HasPrefix(key, "$share/") {
		key = strings.Join(strings.Split(key, "/")[2:], "/")
	}
	granted, ok := tok.(*mqtt.SubscribeToken).Result()[key]
	if !ok || granted != qos {
		t.Fatalf("SUBACK for %s granted %d, want %d", filter, granted, qos)
	}
}

func (c *v3Client) publish(t *testing.T, topic string, qos byte, retained bool, payload string) {
	t.Helper()
	tok := c.Publish(topic, qos, retained, payload)
	if !tok.WaitTimeout(arriveTimeout) || tok.Error() != nil {
		t.Fatalf("PUBLISH %s QoS %d: %v", topic, qos, tok.Error())
	}
}

// v5Client is a paho.golang (MQTT 5) client for the cross-version tests.
type v5Client struct {
	*paho.Client
	inbox *inbox
}

func connect5(t *testing.T, what string) *v5Client {
	t.Helper()
	id := uniqueName(t, what)
	conn, err := net.DialTimeout("tcp", brokerAddr(t), arriveTimeout)
	if err != nil {
		t.Fatal(err)
	}
	c := &v5Client{inbox: newInbox(id)}
	c.Client = paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(r paho.PublishReceived) (bool, error) {
				p := r.Packet
				c.inbox.ch <- describe(p.Topic, p.QoS, p.Retain, p.Payload)
				return true, nil
			},
		},
		OnClientError: func(error) {},
	})
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	ca, err := c.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 30})
	if err != nil || ca.ReasonCode != 0 {
		conn.Close()
		t.Fatalf("MQTT 5 CONNECT %s: %v %v", id, err, ca)
	}
	t.Cleanup(func() {
		_ = c.Disconnect(&paho.Disconnect{ReasonCode: 0})
		conn.Close()
	})
	return c
}

func (c *v5Client) subscribe(t *testing.T, filter string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	sa, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if err != nil || len(sa.Reasons) != 1 || sa.Reasons[0] != qos {
		t.Fatalf("MQTT 5 SUBSCRIBE %s: %v %v", filter, err, sa)
	}
}

func (c *v5Client) publish(t *testing.T, p *paho.Publish) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), arriveTimeout)
	defer cancel()
	resp, err := c.Publish(ctx, p)
	if err != nil || resp.ReasonCode != 0 {
		t.Fatalf("MQTT 5 PUBLISH %s QoS %d: %v %v", p.Topic, p.QoS, err, resp)
	}
}

// Sessions (Clean Start / CleanSession, Session Present, expiry, storage while offline) and Will
// Messages (storage, publication, delay, retain, removal).

#include "conformance/tests_util.h"

namespace simq::conformance {
namespace {

// A CONNECT that leaves a session behind: MQTT 5 Clean Start 1 with a Session Expiry Interval,
// MQTT 3.1.1 CleanSession 0.
ConnectSpec Persistent(T& t, std::string_view tag, uint32_t expiry = 30) {
  ConnectSpec s = t.Spec(tag);
  if (t.v5()) {
    s.clean_start = true;
    s.session_expiry = expiry;
  } else {
    s.clean_start = false;
  }
  return s;
}

// The same client resuming: Clean Start 0 (the expiry stays as it was).
ConnectSpec Resume(ConnectSpec s) {
  s.clean_start = false;
  return s;
}

// Ends a connection as a network failure would (no DISCONNECT).
void Drop(std::unique_ptr<Conn>& c) {
  c->Drop();
  c.reset();
}

// ---- Clean Start and Session Present ----

asio::awaitable<void> CleanStartDiscardsSession(T& t) {
  ConnectSpec spec = Persistent(t, "cs");
  const std::string topic = t.Topic("gone");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  ConnectSpec clean = spec;
  clean.clean_start = true;
  c = co_await t.Connect(clean);
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present, "{} 1 after a persistent session: Session Present 1",
               t.v5() ? "Clean Start" : "CleanSession");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "after clean start", kQoS1))) co_return;
  co_await t.ExpectNoPublish(*c, {}, "no message for the subscription of the discarded session");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> ResumesExistingSession(T& t) {
  ConnectSpec spec = Persistent(t, "res");
  const std::string topic = t.Topic("kept");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "while away", kQoS1))) co_return;
  c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  SIMQ_FAIL_IF(!c->connack.session_present, "resuming a stored session: Session Present 0");
  auto m = co_await t.ExpectPublishOn(*c, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "while away", "resumed session delivered '{}'", m->payload);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> CreatesSessionWhenNoneExists(T& t) {
  ConnectSpec spec = Persistent(t, "new");
  spec.clean_start = false;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present,
               "first CONNECT of a new client identifier with {} 0: Session Present 1",
               t.v5() ? "Clean Start" : "CleanSession");
  const std::string topic = t.Topic("s");
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  c = co_await t.Connect(spec);
  if (!c) co_return;
  SIMQ_FAIL_IF(!c->connack.session_present,
               "reconnecting to the session created by the first CONNECT: Session Present 0");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "to the created session", kQoS1))) co_return;
  co_await t.ExpectPublishOn(*c, topic);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> StoresSessionAfterNetworkLoss(T& t) {
  ConnectSpec spec = Persistent(t, "loss");
  const std::string topic = t.Topic("s");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  Drop(c);
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "queued", kQoS1))) co_return;
  c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  SIMQ_FAIL_IF(!c->connack.session_present,
               "session with Session Expiry Interval 30 after a network failure: Session "
               "Present 0");
  co_await t.ExpectPublishOn(*c, topic);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> ClientIdIdentifiesSession(T& t) {
  ConnectSpec a = Persistent(t, "a");
  ConnectSpec b = Persistent(t, "b");
  const std::string topic = t.Topic("a-only");
  auto ca = co_await t.Connect(a);
  if (!ca) co_return;
  if (!co_await t.Subscribe(*ca, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, ca)) co_return;
  auto cb = co_await t.Connect(b);
  if (!cb) co_return;
  if (!co_await DisconnectAndWait(t, cb)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "for a", kQoS1))) co_return;
  cb = co_await t.Connect(Resume(b));
  if (!cb) co_return;
  if (!co_await t.ExpectNoPublish(*cb, {}, "nothing for client b from client a's subscription"))
    co_return;
  ca = co_await t.Connect(Resume(a));
  if (!ca) co_return;
  SIMQ_FAIL_IF(!ca->connack.session_present, "client a's session: Session Present 0");
  co_await t.ExpectPublishOn(*ca, topic);
  co_await t.EndSession(a.client_id);
  co_await t.EndSession(b.client_id);
}

asio::awaitable<void> CleanStartDropsQueuedMessages(T& t) {
  ConnectSpec spec = Persistent(t, "q");
  const std::string topic = t.Topic("s");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "queued for the old session", kQoS1))) co_return;
  ConnectSpec clean = spec;
  clean.clean_start = true;
  c = co_await t.Connect(clean);
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present, "{} 1: Session Present 1",
               t.v5() ? "Clean Start" : "CleanSession");
  co_await t.ExpectNoPublish(*c, {}, "no message queued for the discarded session");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> CleanStart1GivesSessionPresent0(T& t) {
  ConnectSpec spec = Persistent(t, "sp");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  ConnectSpec clean = spec;
  clean.clean_start = true;
  c = co_await t.Connect(clean);
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present,
               "{} 1 with a stored session for the identifier: Session Present 1",
               t.v5() ? "Clean Start" : "CleanSession");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> SessionPresentWithState(T& t) {
  ConnectSpec spec = Persistent(t, "sp");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  SIMQ_FAIL_IF(!c->connack.session_present, "{} 0 with stored Session State: Session Present 0",
               t.v5() ? "Clean Start" : "CleanSession");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> SessionPresentWithoutState(T& t) {
  ConnectSpec spec = Persistent(t, "none");
  spec.clean_start = false;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present,
               "{} 0 with no Session State for a new identifier: Session Present 1",
               t.v5() ? "Clean Start" : "CleanSession");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> SessionPresentReflectsState(T& t) {
  co_await SessionPresentWithoutState(t);
  if (t.failed()) co_return;
  co_await SessionPresentWithState(t);
}

// ---- Session lifetime ----

asio::awaitable<void> KeepsSessionWhileConnected(T& t) {
  ConnectSpec spec = t.Spec("live");
  if (t.v5()) spec.session_expiry = 1;  // would have expired by now if it ran while connected
  const std::string topic = t.Topic("s");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  co_await t.Sleep(Ms(2500));
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "after 2.5 s", kQoS1))) co_return;
  co_await t.ExpectPublishOn(*c, topic);
}

asio::awaitable<void> DiscardsSessionAfterExpiry(T& t) {
  ConnectSpec spec = Persistent(t, "exp", 1);
  const std::string topic = t.Topic("s");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await t.Subscribe(*c, topic, kQoS1)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  co_await t.Sleep(Ms(2500));
  c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  SIMQ_FAIL_IF(c->connack.session_present,
               "Session Expiry Interval 1 s, reconnected after 2.5 s: Session Present 1");
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "after expiry", kQoS1))) co_return;
  co_await t.ExpectNoPublish(*c, {}, "no message for the subscription of the expired session");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> QueuesForOfflineSubscriber(T& t, bool qos2_too) {
  ConnectSpec spec = Persistent(t, "off");
  const std::string topic = t.Topic("s");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  const QoS max = qos2_too && t.caps().max_qos >= 2 ? kQoS2 : kQoS1;
  if (!co_await t.Subscribe(*c, topic, max)) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  auto pub = co_await t.Connect(t.Spec("pub"));
  if (!pub) co_return;
  if (!co_await t.Publish(*pub, Pub(topic, "one", kQoS1))) co_return;
  if (max == kQoS2 && !co_await t.Publish(*pub, Pub(topic, "two", kQoS2))) co_return;
  c = co_await t.Connect(Resume(spec));
  if (!c) co_return;
  auto m1 = co_await t.ExpectPublishOn(*c, topic);
  if (!m1) co_return;
  SIMQ_FAIL_IF(m1->payload != "one", "first stored message: '{}', expected 'one'", m1->payload);
  if (max == kQoS2) {
    auto m2 = co_await t.ExpectPublishOn(*c, topic);
    if (!m2) co_return;
    SIMQ_FAIL_IF(m2->payload != "two" || m2->qos != kQoS2,
                 "second stored message: {}, expected QoS 2 'two'", m2->Describe());
  }
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> RetainedSurvivesSessionEnd(T& t) {
  if (!t.NeedRetain()) co_return;
  const std::string topic = t.Topic("r");
  auto c = co_await t.Connect(t.Spec("p"));  // CleanSession 1: its session ends below
  if (!c) co_return;
  if (!co_await t.Publish(*c, Pub(topic, "outlives the session", kQoS1, true))) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  auto sub = co_await t.Connect(t.Spec("s"));
  if (!sub) co_return;
  if (!co_await t.Subscribe(*sub, topic, kQoS1)) co_return;
  auto m = co_await t.ExpectPublishOn(*sub, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(!m->retain || m->payload != "outlives the session",
               "after the publisher's session ended: {}", m->Describe());
  auto clear = co_await t.Connect(t.Spec("clr"));
  if (clear) co_await t.Publish(*clear, Pub(topic, "", kQoS0, true));
}

// ---- Will Messages ----

WillSpec Will(std::string topic, std::string payload = "gone") {
  WillSpec w;
  w.topic = std::move(topic);
  w.payload = std::move(payload);
  return w;
}

// A subscriber to `topic` (QoS 1, Retain As Published so the RETAIN flag shows).
asio::awaitable<std::unique_ptr<Conn>> Watcher(T& t, std::string topic) {
  auto w = co_await t.Connect(t.Spec("watch"));
  if (!w) co_return nullptr;
  SubSpec s = Sub(topic, SubOpts(kQoS1, false, t.v5()));
  if (!co_await t.Subscribe(*w, s)) co_return nullptr;
  co_return w;
}

asio::awaitable<void> PublishesWillOnNetworkFailure(T& t) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = t.Spec("dying");
  spec.will = Will(topic, "network failure");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  auto m = co_await t.ExpectPublishOn(*watch, topic);
  if (!m) co_return;
  SIMQ_FAIL_IF(m->payload != "network failure", "Will Message payload '{}', expected '{}'",
               m->payload, "network failure");
}

asio::awaitable<void> PublishesWillAfterDelay(T& t) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = Persistent(t, "dying", 10);
  WillSpec w = Will(topic, "delayed");
  w.delay = 1;
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  const auto start = std::chrono::steady_clock::now();
  auto m = co_await t.ExpectPublishOn(*watch, topic);
  if (!m) co_return;
  const auto elapsed =
      std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start).count();
  SIMQ_FAIL_IF(elapsed < 900, "Will Delay Interval 1 s: the Will Message came after {} ms",
               elapsed);
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> NoWillAfterNormalDisconnect(T& t, uint32_t delay) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = t.Spec("leaving");
  WillSpec w = Will(topic, "must not appear");
  if (t.v5() && delay > 0) {
    w.delay = delay;
    spec.session_expiry = 10;
  }
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  if (!co_await DisconnectAndWait(t, c)) co_return;
  co_await t.ExpectNoPublish(*watch, Ms(t.v5() && delay > 0 ? delay * 1000 + 1500 : 1500),
                             "no Will Message after DISCONNECT with Reason Code 0x00");
  if (spec.session_expiry) co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> WillRemovedOncePublished(T& t) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = Persistent(t, "once");
  spec.will = Will(topic, "once");
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  if (!co_await t.ExpectPublishOn(*watch, topic)) co_return;
  // The session continues without a Will (the new CONNECT has none): a second network failure
  // publishes nothing.
  ConnectSpec again = Resume(spec);
  again.will.reset();
  c = co_await t.Connect(again);
  if (!c) co_return;
  Drop(c);
  co_await t.ExpectNoPublish(*watch, Ms(1500), "no second Will Message");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> WillRetain(T& t, bool retain) {
  if (retain && !t.NeedRetain()) co_return;
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = t.Spec("dying");
  WillSpec w = Will(topic, retain ? "retained will" : "plain will");
  w.retain = retain;
  w.qos = kQoS1;
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  auto live = co_await t.ExpectPublishOn(*watch, topic);
  if (!live) co_return;
  if (t.v5()) {
    SIMQ_FAIL_IF(live->retain != retain,
                 "Will Retain {}: a Retain As Published subscriber got RETAIN {}", retain,
                 live->retain);
  }
  auto late = co_await t.Connect(t.Spec("late"));
  if (!late) co_return;
  if (!co_await t.Subscribe(*late, topic, kQoS1)) co_return;
  if (retain) {
    auto m = co_await t.ExpectPublishOn(*late, topic);
    if (!m) co_return;
    SIMQ_FAIL_IF(!m->retain || m->payload != "retained will",
                 "Will Retain 1: a later subscriber got {}", m->Describe());
    if (auto clear = co_await t.Connect(t.Spec("clr"))) {
      co_await t.Publish(*clear, Pub(topic, "", kQoS0, true));
    }
  } else {
    co_await t.ExpectNoPublish(*late, {}, "no retained message from a Will with Will Retain 0");
  }
}

asio::awaitable<void> NoWillIfReconnectedWithinDelay(T& t) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = Persistent(t, "back", 30);
  WillSpec w = Will(topic, "must not appear");
  w.delay = 3;
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  co_await t.Sleep(Ms(300));
  ConnectSpec again = Resume(spec);
  again.will.reset();
  c = co_await t.Connect(again);
  if (!c) co_return;
  co_await t.ExpectNoPublish(*watch, Ms(4000),
                             "no Will Message: the client reconnected within the Will Delay");
  co_await t.EndSession(spec.client_id);
}

asio::awaitable<void> WillUserPropertyOrder(T& t) {
  const std::string topic = t.Topic("will");
  auto watch = co_await Watcher(t, topic);
  if (!watch) co_return;
  ConnectSpec spec = t.Spec("dying");
  WillSpec w = Will(topic, "props");
  w.user_properties.emplace_back("b", "1");
  w.user_properties.emplace_back("a", "2");
  w.user_properties.emplace_back("b", "3");
  w.user_properties.emplace_back("c", "4");
  spec.will = w;
  auto c = co_await t.Connect(spec);
  if (!c) co_return;
  Drop(c);
  auto m = co_await t.ExpectPublishOn(*watch, topic);
  if (!m) co_return;
  const auto got = m->p().user_properties.ToVector();
  bool same = got.size() == 4;
  for (size_t i = 0; same && i < 4; ++i) {
    same = got[i].name == w.user_properties[i].first && got[i].value == w.user_properties[i].second;
  }
  SIMQ_FAIL_IF(!same, "Will User Properties [b=1, a=2, b=3, c=4] published as {}",
               FormatPairs(got));
}

}  // namespace

void RegisterSessionTests(Registry& r) {
  // MQTT 5.0
  r.Add(kV5, "MQTT-3.1.2-4", "CleanStartDiscardsExistingSession", CleanStartDiscardsSession);
  r.Add(kV5, "MQTT-3.1.2-5", "CleanStart0ResumesExistingSession", ResumesExistingSession);
  r.Add(kV5, "MQTT-3.1.2-6", "CleanStart0CreatesSessionWhenNoneExists",
        CreatesSessionWhenNoneExists);
  r.Add(kV5, "MQTT-3.1.2-7", "StoresWillAndPublishesItOnNetworkFailure",
        PublishesWillOnNetworkFailure);
  r.Add(kV5, "MQTT-3.1.2-8", "PublishesWillAfterWillDelayInterval", PublishesWillAfterDelay);
  r.Add(kV5, "MQTT-3.1.2-10", "RemovesWillOncePublished", WillRemovedOncePublished);
  r.Add(kV5, "MQTT-3.1.2-14", "PublishesWillRetain0AsNonRetained",
        [](T& t) { return WillRetain(t, false); });
  r.Add(kV5, "MQTT-3.1.2-15", "PublishesWillRetain1AsRetained",
        [](T& t) { return WillRetain(t, true); });
  r.Add(kV5, "MQTT-3.1.2-23", "StoresSessionAfterNetworkConnectionCloses",
        StoresSessionAfterNetworkLoss);
  r.Add(kV5, "MQTT-3.1.3-2", "ClientIdIdentifiesSessionState", ClientIdIdentifiesSession);
  r.Add(kV5, "MQTT-3.1.3-9", "NoWillWhenReconnectedWithinWillDelay",
        NoWillIfReconnectedWithinDelay);
  r.Add(kV5, "MQTT-3.1.3-10", "KeepsWillUserPropertyOrder", WillUserPropertyOrder);
  r.Add(kV5, "MQTT-3.1.4-4", "PerformsCleanStartProcessing", CleanStartDropsQueuedMessages);
  r.Add(kV5, "MQTT-3.2.2-2", "CleanStart1GivesSessionPresent0", CleanStart1GivesSessionPresent0);
  r.Add(kV5, "MQTT-3.2.2-3", "SessionPresentReflectsStoredState", SessionPresentReflectsState);
  r.Add(kV5, "MQTT-3.14.4-3", "DiscardsDelayedWillOnDisconnect0x00",
        [](T& t) { return NoWillAfterNormalDisconnect(t, 2); });
  r.Add(kV5, "MQTT-4.1.0-1", "KeepsSessionWhileConnected", KeepsSessionWhileConnected);
  r.Add(kV5, "MQTT-4.1.0-2", "DiscardsSessionAfterExpiryInterval", DiscardsSessionAfterExpiry);
  r.Add(kV5, "MQTT-4.5.0-1", "StoresMessagesForOfflineSubscribers",
        [](T& t) { return QueuesForOfflineSubscriber(t, true); });

  // MQTT 3.1.1
  r.Add(kV311, "MQTT-3.1.2-4", "CleanSession0ResumesOrCreatesSession",
        CreatesSessionWhenNoneExists);
  r.Add(kV311, "MQTT-3.1.2-5", "StoresQoS1And2MessagesWhileDisconnected",
        [](T& t) { return QueuesForOfflineSubscriber(t, true); });
  r.Add(kV311, "MQTT-3.1.2-6", "CleanSession1DiscardsSession", CleanStartDiscardsSession);
  r.Add(kV311, "MQTT-3.1.2-7", "KeepsRetainedMessagesWhenSessionEnds", RetainedSurvivesSessionEnd);
  r.Add(kV311, "MQTT-3.1.2-8", "PublishesWillOnNetworkFailure", PublishesWillOnNetworkFailure);
  r.Add(kV311, "MQTT-3.1.2-10", "RemovesWillOncePublished", WillRemovedOncePublished);
  r.Add(kV311, "MQTT-3.1.2-16", "PublishesWillRetain0AsNonRetained",
        [](T& t) { return WillRetain(t, false); });
  r.Add(kV311, "MQTT-3.1.2-17", "PublishesWillRetain1AsRetained",
        [](T& t) { return WillRetain(t, true); });
  r.Add(kV311, "MQTT-3.1.3-2", "ClientIdIdentifiesSessionState", ClientIdIdentifiesSession);
  r.Add(kV311, "MQTT-3.1.4-3", "PerformsCleanSessionProcessing", CleanStartDropsQueuedMessages);
  r.Add(kV311, "MQTT-3.2.2-1", "CleanSession1GivesSessionPresent0",
        CleanStart1GivesSessionPresent0);
  r.Add(kV311, "MQTT-3.2.2-2", "StoredSessionGivesSessionPresent1", SessionPresentWithState);
  r.Add(kV311, "MQTT-3.2.2-3", "NoSessionGivesSessionPresent0", SessionPresentWithoutState);
  r.Add(kV311, "MQTT-3.14.4-3", "DiscardsWillOnDisconnect",
        [](T& t) { return NoWillAfterNormalDisconnect(t, 0); });
  r.Add(kV311, "MQTT-4.1.0-1", "StoresSessionStateForTheSession", StoresSessionAfterNetworkLoss);
  r.Add(kV311, "MQTT-4.1.0-2", "KeepsSessionWhileConnected", KeepsSessionWhileConnected);
  r.Add(kV311, "MQTT-4.5.0-1", "StoresMessagesForOfflineSubscribers",
        [](T& t) { return QueuesForOfflineSubscriber(t, false); });
}

}  // namespace simq::conformance

#include "loadgen/engine.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/packets.h"
#include "loadgen/buffer.h"
#include "loadgen/histogram.h"
#include "loadgen/mqtt_wire.h"
#include "loadgen/proc_stats.h"
#include "loadgen/sequence.h"
#include "loadgen/stamp.h"
#include "loadgen/strcat.h"

namespace simq::loadgen {
namespace {

using protocol::ProtocolVersion;

constexpr size_t kScratchSize = 1 << 20;     // per-thread receive buffer
constexpr size_t kBatchBytes = 64 << 10;     // a publisher writes at most this per turn
constexpr size_t kOutHighWater = 256 << 10;  // a publisher stops encoding above this
constexpr int kMaxReadsPerTurn = 4;          // recv() calls per connection per loop turn
constexpr uint64_t kProbeIntervalNs = 10'000'000;
constexpr uint64_t kSlowTickNs = 10'000'000;
constexpr int kFiltersPerSubscribe = 100;
constexpr size_t kMaxErrorSamples = 10;
const char* const kSysTopics[] = {"$SYS/broker/publish/messages/dropped",
                                  "$SYS/broker/publish/messages/sent",
                                  "$SYS/broker/publish/messages/received"};

enum class Phase : int { kSetup, kRunning, kDraining, kStopping };
enum class Role { kPublisher, kSubscriber, kSlow, kProbe, kIdle, kMonitor };
enum class State { kConnecting, kAwaitConnack, kAwaitSuback, kReady, kClosed };

clockid_t g_clock = CLOCK_MONOTONIC;

uint64_t NowNs() {
  timespec ts;
  clock_gettime(g_clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Shared between the publisher's thread and the threads of its subscribers.
struct alignas(64) PubShared {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> delivered{0};  // to gating (non-slow) subscribers, duplicates included
  std::atomic<uint64_t> wake_at{0};    // delivered count at which a blocked publisher resumes
  std::atomic<bool> waiting{false};
  int thread = 0;
  uint64_t fanout = 1;  // gating deliveries per message
};

class Thread;
struct RunState;

struct PubState {
  uint32_t id = 0;
  PubShared* shared = nullptr;
  std::vector<std::string> topics;
  std::vector<PublishTemplate> first;  // with topic (and alias when aliased)
  std::vector<PublishTemplate> rest;   // alias only, when aliased; else empty
  std::vector<bool> alias_sent;
  size_t next_topic = 0;
  uint64_t seq = 0;    // messages sent
  uint64_t acked = 0;  // QoS 1/2 completed
  uint64_t inflight = 0;
  std::vector<uint64_t> slot;       // packet id → seq + 1 while in flight
  std::vector<uint8_t> slot_state;  // 1: awaiting PUBACK/PUBREC, 2: awaiting PUBCOMP
  uint16_t next_pid = 1;
  uint64_t window = 0;    // 0 = unlimited
  uint64_t start_ns = 0;  // rate pacing origin (staggered per publisher)
  bool blocked = false;   // window full: waits for acks or deliveries
  bool runnable = false;  // in the thread's runnable list
};

struct SubState {
  std::vector<std::string> filters;
  std::vector<SequenceTracker> trackers;  // by publisher (complete streams)
  SplitOrder order;                       // split streams
  uint64_t split_duplicates = 0, split_reorders = 0;
  uint64_t received = 0;
  std::vector<uint8_t> aliases;  // known inbound topic aliases (lazily 65536)
  std::vector<uint8_t> qos2;     // packet ids awaiting PUBREL (lazily 65536)
  uint64_t slow_next_ns = 0;
  bool disconnected = false;
};

struct Conn {
  Role role = Role::kPublisher;
  int index = 0;
  int host = 0;
  Thread* thread = nullptr;
  int fd = -1;
  State state = State::kConnecting;
  bool v5 = false;
  bool writable = false;
  bool readable = false;
  bool pending_read = false;
  Buffer out;
  Buffer partial;
  std::string client_id;
  uint64_t connect_start_ns = 0;
  uint64_t last_send_ns = 0;
  int subacks_pending = 0;
  uint16_t next_pid = 1;  // SUBSCRIBE
  uint16_t server_receive_max = 65535;
  uint16_t server_alias_max = 0;
  uint64_t ping_sent_ns = 0;  // probe
  uint64_t next_ping_ns = 0;
  bool resubscribe = false;  // monitor: asked to re-read $SYS
  std::unique_ptr<PubState> pub;
  std::unique_ptr<SubState> sub;
};

struct RunState {
  Options o;
  std::string run_id;
  std::string prefix;
  ProtocolVersion version = ProtocolVersion::kMqtt311;
  std::vector<sockaddr_storage> addrs;
  std::vector<socklen_t> addr_lens;
  std::atomic<int> phase{static_cast<int>(Phase::kSetup)};
  std::atomic<uint64_t> start_ns{0};
  std::atomic<uint64_t> measure_from_ns{UINT64_MAX};  // latency counts stamps from here on
  std::unique_ptr<PubShared[]> pubs;
  int npubs = 0;
  bool split = false;  // streams split between subscribers (shared)
  std::unique_ptr<SharedSequenceSet> split_set;
  std::vector<std::unique_ptr<Thread>> threads;
  std::atomic<uint64_t> epoch{0};
  std::atomic<int> ready{0};
  std::atomic<int> closed_early{0};
  int expected_ready = 0;
  // conn mode
  std::atomic<uint64_t> first_connect_ns{UINT64_MAX};
  std::atomic<uint64_t> last_connack_ns{0};
  std::atomic<uint64_t> connects_done{0};
  std::atomic<uint64_t> connects_failed{0};
  // errors
  std::atomic<uint64_t> errors{0};
  std::mutex mu;
  std::vector<std::string> error_samples;
  std::map<std::string, SysValues> sys;  // guarded by mu
  std::atomic<bool> sys_end{false};

  Phase phase_now() const { return static_cast<Phase>(phase.load(std::memory_order_acquire)); }
  void Error(std::string message) {
    errors.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> lock(mu);
    if (error_samples.size() < kMaxErrorSamples) error_samples.push_back(std::move(message));
  }
};

class Thread {
 public:
  Thread(RunState* run, int index) : run_(run), index_(index) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
    scratch_ = std::make_unique_for_overwrite<char[]>(kScratchSize);
    local_delivered_.assign(static_cast<size_t>(run->npubs), 0);
  }
  ~Thread() {
    for (auto& c : conns_) {
      if (c->fd >= 0) close(c->fd);
    }
    close(epfd_);
    close(evfd_);
  }

  Conn* Add(std::unique_ptr<Conn> c) {
    c->thread = this;
    conns_.push_back(std::move(c));
    return conns_.back().get();
  }
  void Start() {
    thread_ = std::thread([this] { Loop(); });
  }
  void Join() {
    if (thread_.joinable()) thread_.join();
  }
  void Wake() {
    recheck_.store(true, std::memory_order_release);
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = write(evfd_, &one, sizeof one);
  }

  const std::vector<std::unique_ptr<Conn>>& conns() const { return conns_; }

  // Progress counters, single writer (this thread), read by the reporter.
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> slow_received{0};

  // Interval histograms handed to the reporter once per epoch.
  std::mutex mailbox_mu;
  Histogram mailbox_latency, mailbox_probe;
  std::atomic<uint64_t> handed_epoch{0};

  // Totals, read after Join().
  Histogram latency, probe, connect_latency;
  uint64_t pacing_lag_max_ns = 0;
  uint64_t foreign = 0;

 private:
  void Loop();
  void StartConnect(Conn* c);
  void OnEvent(Conn* c, uint32_t events);
  void OnConnected(Conn* c);
  void ReadAll(Conn* c, size_t budget);
  bool Parse(Conn* c, char* data, size_t len, size_t* consumed, uint64_t now);
  bool HandlePacket(Conn* c, const FrameHeader& h, std::string_view body, uint64_t now);
  void HandlePublish(Conn* c, const IncomingPublish& p, uint64_t now);
  void HandleConnack(Conn* c, std::string_view frame);
  void HandleSuback(Conn* c, std::string_view frame);
  void HandlePubAck(Conn* c, uint8_t type, std::string_view body);
  void FlushDelivered();
  void Pump(Conn* c, uint64_t now);
  bool Flush(Conn* c);
  void Fail(Conn* c, std::string why);
  void Close(Conn* c);
  void SendSubscribe(Conn* c, const std::vector<std::string>& filters, int qos);
  void MarkReady(Conn* c);
  void Timers(uint64_t now);
  void MakeRunnable(Conn* c) {
    if (!c->pub->runnable) {
      c->pub->runnable = true;
      runnable_.push_back(c);
    }
  }
  void Disconnect(Conn* c);

  RunState* run_;
  int index_;
  int epfd_ = -1;
  int evfd_ = -1;
  std::thread thread_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> runnable_;
  std::vector<Conn*> pending_reads_;
  std::unique_ptr<char[]> scratch_;
  std::vector<uint64_t> local_delivered_;
  std::vector<uint32_t> dirty_pubs_;
  std::atomic<bool> recheck_{false};
  Histogram interval_latency_, interval_probe_;
  uint64_t seen_epoch_ = 0;
  uint64_t next_keepalive_scan_ns_ = 0;
  uint64_t next_slow_ns_ = 0;
  size_t next_idle_ = 0;  // conn mode: next idle connection to start
  int connecting_ = 0;
  uint64_t received_local_ = 0, slow_received_local_ = 0, sent_local_ = 0;
};

// ---------------------------------------------------------------------------------------------

void Thread::StartConnect(Conn* c) {
  const sockaddr_storage& addr = run_->addrs[static_cast<size_t>(c->host)];
  c->fd = socket(addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    Fail(c, Cat("socket: ", strerror(errno)));
    return;
  }
  const int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->role == Role::kSlow) {
    // A small receive buffer, so the backlog builds up in the broker and not in our kernel.
    const int rcvbuf = 64 << 10;
    setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  }
  c->connect_start_ns = NowNs();
  if (c->role == Role::kIdle) {
    uint64_t expected = UINT64_MAX;
    run_->first_connect_ns.compare_exchange_strong(expected, c->connect_start_ns);
    ++connecting_;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = c;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, c->fd, &ev);
  c->state = State::kConnecting;
  if (connect(c->fd, reinterpret_cast<const sockaddr*>(&addr),
              run_->addr_lens[static_cast<size_t>(c->host)]) != 0 &&
      errno != EINPROGRESS) {
    Fail(c, Cat("connect: ", strerror(errno)));
  }
}

void Thread::OnConnected(Conn* c) {
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err != 0) {
    Fail(c, Cat("connect to ", run_->o.hosts[static_cast<size_t>(c->host)].ToString(), ": ",
                strerror(err)));
    return;
  }
  protocol::ConnectPacket connect;
  connect.version = run_->version;
  // Probes and $SYS monitors never need a persistent session.
  connect.clean_start = !run_->o.persistent || c->role == Role::kProbe || c->role == Role::kMonitor;
  connect.keep_alive = static_cast<uint16_t>(run_->o.keepalive);
  connect.client_id = c->client_id;
  if (c->v5) {
    if (!connect.clean_start && run_->o.session_expiry > 0) {
      connect.properties.session_expiry_interval = static_cast<uint32_t>(run_->o.session_expiry);
    }
    connect.properties.receive_maximum = 65535;
    if (run_->o.topic_alias) connect.properties.topic_alias_maximum = 1024;
  }
  std::string bytes;
  protocol::Encode(connect, &bytes);
  c->out.Append(bytes);
  c->state = State::kAwaitConnack;
  Flush(c);
}

void Thread::Fail(Conn* c, std::string why) {
  if (c->state == State::kClosed) return;
  const bool setup = c->state != State::kReady;
  if (c->role == Role::kIdle && setup) {
    run_->connects_failed.fetch_add(1);
    --connecting_;
  }
  if (c->role == Role::kSlow && !setup) {
    c->sub->disconnected = true;  // a slow consumer may be cut off by the broker: counted
  } else if (run_->phase_now() != Phase::kStopping) {
    run_->Error(Cat(c->client_id, ": ", why));
    if (setup) run_->closed_early.fetch_add(1);
  }
  Close(c);
}

void Thread::Close(Conn* c) {
  if (c->fd >= 0) {
    epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
    c->fd = -1;
  }
  c->state = State::kClosed;
  c->out.Release();
  c->partial.Release();
  if (c->pub) {
    c->pub->blocked = false;
  }
}

bool Thread::Flush(Conn* c) {
  while (!c->out.empty() && c->fd >= 0) {
    const ssize_t n = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.Consume(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->writable = false;
      return false;
    }
    if (n < 0 && errno == EINTR) continue;
    Fail(c, Cat("send: ", strerror(errno)));
    return false;
  }
  if (c->out.empty() && c->out.capacity() > (1 << 20)) c->out.Release();
  return c->fd >= 0;
}

void Thread::SendSubscribe(Conn* c, const std::vector<std::string>& filters, int qos) {
  for (size_t i = 0; i < filters.size(); i += kFiltersPerSubscribe) {
    protocol::SubscribePacket s;
    s.packet_id = c->next_pid++;
    if (c->next_pid == 0) c->next_pid = 1;
    for (size_t j = i; j < std::min(filters.size(), i + kFiltersPerSubscribe); ++j) {
      protocol::TopicSubscription ts;
      ts.filter = filters[j];
      ts.options.max_qos = static_cast<protocol::QoS>(qos);
      s.subscriptions.push_back(ts);
    }
    std::string bytes;
    protocol::Encode(s, run_->version, &bytes);
    c->out.Append(bytes);
    ++c->subacks_pending;
  }
  c->state = State::kAwaitSuback;
  Flush(c);
}

void Thread::MarkReady(Conn* c) {
  c->state = State::kReady;
  if (c->role == Role::kIdle) {
    const uint64_t now = NowNs();
    connect_latency.Record(now - c->connect_start_ns);
    uint64_t last = run_->last_connack_ns.load();
    while (now > last && !run_->last_connack_ns.compare_exchange_weak(last, now)) {
    }
    run_->connects_done.fetch_add(1);
    --connecting_;
    return;
  }
  if (c->role == Role::kPublisher) {
    PubState& p = *c->pub;
    const int qos = run_->o.qos;
    uint64_t window = static_cast<uint64_t>(run_->o.window);
    if (qos > 0) {
      const uint64_t quota = std::min<uint64_t>(c->server_receive_max, 65535);
      window = window == 0 ? quota : std::min(window, quota);
      p.slot.assign(65536, 0);
      p.slot_state.assign(65536, 0);
    }
    p.window = window;
    // Templates: aliases only where the server allows them (Topic Alias Maximum).
    const auto version = run_->version;
    for (size_t t = 0; t < p.topics.size(); ++t) {
      const bool alias = run_->o.topic_alias && t < c->server_alias_max;
      const uint16_t a = alias ? static_cast<uint16_t>(t + 1) : 0;
      p.first.emplace_back(p.topics[t], qos, version, static_cast<size_t>(run_->o.payload), a,
                           true);
      if (alias) {
        p.rest.emplace_back(p.topics[t], qos, version, static_cast<size_t>(run_->o.payload), a,
                            false);
      } else {
        p.rest.emplace_back();
      }
    }
    p.alias_sent.assign(p.topics.size(), false);
  }
  run_->ready.fetch_add(1);
}

// ---------------------------------------------------------------------------------------------

void Thread::OnEvent(Conn* c, uint32_t events) {
  if (c->state == State::kClosed) return;
  if (events & EPOLLOUT) {
    c->writable = true;
    if (c->state == State::kConnecting) {
      OnConnected(c);
      if (c->state == State::kClosed) return;
    } else if (!c->out.empty()) {
      if (!Flush(c)) return;
    }
    if (c->pub && c->state == State::kReady && c->out.size() < kOutHighWater) MakeRunnable(c);
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    if (c->state == State::kConnecting) {
      OnConnected(c);  // reports the connect error
      if (c->state == State::kClosed) return;
    }
    c->readable = true;
    if (c->role == Role::kSlow && c->state == State::kReady) return;  // read on the slow timer
    ReadAll(c, SIZE_MAX);
  }
}

void Thread::ReadAll(Conn* c, size_t budget) {
  for (int i = 0; i < kMaxReadsPerTurn && c->state != State::kClosed; ++i) {
    size_t have = c->partial.size();
    if (have) std::memcpy(scratch_.get(), c->partial.data(), have);
    // A packet larger than the scratch buffer is assembled in `partial` itself.
    char* base = scratch_.get();
    size_t cap = kScratchSize;
    Buffer big;
    if (have >= kScratchSize / 2) {
      big.Append(c->partial.view());
      big.Append(kScratchSize);
      big.Unappend(kScratchSize);
      base = const_cast<char*>(big.data());
      cap = big.capacity();
    }
    const size_t want = std::min(cap - have, budget);
    if (want == 0) return;
    const ssize_t n = recv(c->fd, base + have, want, 0);
    if (n == 0) {
      Fail(c, "connection closed by the broker");
      return;
    }
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        c->readable = false;
        return;
      }
      if (errno == EINTR) continue;
      Fail(c, Cat("recv: ", strerror(errno)));
      return;
    }
    budget -= static_cast<size_t>(n);
    const uint64_t now = NowNs();
    size_t consumed = 0;
    const size_t len = have + static_cast<size_t>(n);
    if (!Parse(c, base, len, &consumed, now)) return;
    c->partial.Clear();
    if (consumed < len) {
      c->partial.Append(std::string_view(base + consumed, len - consumed));
    } else if (c->partial.capacity() > 4096) {
      c->partial.Release();
    }
    FlushDelivered();
    if (!c->out.empty()) Flush(c);
    if (c->state == State::kClosed) return;
    if (static_cast<size_t>(n) < want) {
      c->readable = false;  // the socket is drained: wait for the next edge
      return;
    }
    if (budget == 0) return;
  }
  // Still readable after kMaxReadsPerTurn: continue next turn, after the other connections.
  if (c->readable && !c->pending_read && c->role != Role::kSlow) {
    c->pending_read = true;
    pending_reads_.push_back(c);
  }
}

bool Thread::Parse(Conn* c, char* data, size_t len, size_t* consumed, uint64_t now) {
  size_t pos = 0;
  FrameHeader h;
  while (pos < len) {
    const Split s = SplitFrame(data + pos, len - pos, &h);
    if (s == Split::kNeedMore) break;
    if (s == Split::kMalformed) {
      Fail(c, "malformed fixed header from the broker");
      return false;
    }
    if (len - pos < h.total()) break;
    if (!HandlePacket(c, h, std::string_view(data + pos + h.header_size, h.remaining), now)) {
      return false;
    }
    pos += h.total();
  }
  *consumed = pos;
  return c->state != State::kClosed;
}

bool Thread::HandlePacket(Conn* c, const FrameHeader& h, std::string_view body, uint64_t now) {
  switch (h.type()) {
    case 3: {  // PUBLISH
      IncomingPublish p;
      if (!ParsePublish(h.first, body, c->v5, &p)) {
        Fail(c, "malformed PUBLISH from the broker");
        return false;
      }
      HandlePublish(c, p, now);
      return true;
    }
    case 4:  // PUBACK
    case 5:  // PUBREC
    case 7:  // PUBCOMP
      HandlePubAck(c, h.type(), body);
      return c->state != State::kClosed;
    case 6: {  // PUBREL (we are the receiver of a QoS 2 message)
      IncomingAck a;
      if (!ParseAck(body, &a) || !c->sub) {
        Fail(c, "unexpected PUBREL");
        return false;
      }
      if (c->sub->qos2.empty() || !c->sub->qos2[a.packet_id]) {
        run_->Error(Cat(c->client_id, ": PUBREL for unknown packet id ", a.packet_id));
      } else {
        c->sub->qos2[a.packet_id] = 0;
      }
      WriteAck(c->out.Append(kAckSize), kPubcomp, a.packet_id);
      return true;
    }
    case 2:  // CONNACK
      HandleConnack(c, std::string_view(body.data() - h.header_size, h.total()));
      return c->state != State::kClosed;
    case 9:  // SUBACK
      HandleSuback(c, std::string_view(body.data() - h.header_size, h.total()));
      return c->state != State::kClosed;
    case 13:  // PINGRESP
      if (c->role == Role::kProbe && c->ping_sent_ns != 0) {
        const uint64_t rtt = now - c->ping_sent_ns;
        c->ping_sent_ns = 0;
        if (run_->phase_now() == Phase::kRunning) {
          probe.Record(rtt);
          interval_probe_.Record(rtt);
        }
      }
      return true;
    case 14: {  // DISCONNECT
      std::string why = "DISCONNECT from the broker";
      if (c->v5 && !body.empty()) {
        why += Cat(" (reason 0x", Hex(static_cast<uint8_t>(body[0])), ")");
      }
      Fail(c, why);
      return false;
    }
    default: Fail(c, Cat("unexpected packet type ", h.type(), " from the broker")); return false;
  }
}

void Thread::HandleConnack(Conn* c, std::string_view frame) {
  FrameHeader h;
  SplitFrame(frame.data(), frame.size(), &h);
  protocol::Frame f{
      protocol::FixedHeader{protocol::PacketType::kConnack, static_cast<uint8_t>(h.first & 0x0F),
                            h.header_size, h.remaining},
      frame.substr(h.header_size)};
  absl::StatusOr<protocol::ConnackPacket> ack = protocol::DecodeConnack(f, run_->version);
  if (!ack.ok()) {
    Fail(c, Cat("bad CONNACK: ", ack.status().message()));
    return;
  }
  if (ack->reason_code != protocol::ReasonCode::kSuccess) {
    Fail(c, Cat("CONNACK refused: 0x", Hex(static_cast<unsigned>(ack->reason_code))));
    return;
  }
  c->server_receive_max = ack->properties.receive_maximum.value_or(65535);
  c->server_alias_max = ack->properties.topic_alias_maximum.value_or(0);
  c->last_send_ns = NowNs();
  switch (c->role) {
    case Role::kSubscriber:
    case Role::kSlow: SendSubscribe(c, c->sub->filters, run_->o.qos); break;
    case Role::kMonitor: {
      std::vector<std::string> topics(std::begin(kSysTopics), std::end(kSysTopics));
      SendSubscribe(c, topics, 0);
      break;
    }
    default: MarkReady(c);
  }
}

void Thread::HandleSuback(Conn* c, std::string_view frame) {
  FrameHeader h;
  SplitFrame(frame.data(), frame.size(), &h);
  protocol::Frame f{
      protocol::FixedHeader{protocol::PacketType::kSuback, static_cast<uint8_t>(h.first & 0x0F),
                            h.header_size, h.remaining},
      frame.substr(h.header_size)};
  absl::StatusOr<protocol::SubackPacket> ack = protocol::DecodeSuback(f, run_->version);
  if (!ack.ok()) {
    Fail(c, Cat("bad SUBACK: ", ack.status().message()));
    return;
  }
  const int want = c->role == Role::kMonitor ? 0 : run_->o.qos;
  for (protocol::ReasonCode rc : ack->reason_codes) {
    const int code = static_cast<int>(rc);
    if (code >= 0x80) {
      Fail(c, Cat("SUBSCRIBE refused: 0x", Hex(static_cast<unsigned>(code))));
      return;
    }
    if (code < want) {
      run_->Error(Cat(c->client_id, ": granted QoS ", code, " < requested ", want));
    }
  }
  if (--c->subacks_pending > 0) return;
  if (c->state == State::kReady) return;  // a monitor re-subscribing
  MarkReady(c);
}

void Thread::HandlePubAck(Conn* c, uint8_t type, std::string_view body) {
  IncomingAck a;
  if (!ParseAck(body, &a) || !c->pub || c->pub->slot.empty()) {
    Fail(c, Cat("unexpected acknowledgement (type ", type, ")"));
    return;
  }
  PubState& p = *c->pub;
  const uint8_t expect_state = type == 7 ? 2 : 1;
  const int qos = run_->o.qos;
  if (p.slot[a.packet_id] == 0 || p.slot_state[a.packet_id] != expect_state ||
      (type == 4) != (qos == 1)) {
    run_->Error(Cat(c->client_id, ": acknowledgement type ", type, " for packet id ", a.packet_id,
                    " not in flight"));
    return;
  }
  if (a.reason >= 0x80) {
    run_->Error(Cat(c->client_id, ": publish refused with reason 0x", Hex(a.reason)));
    // Completed (unsuccessfully): free the slot.
    p.slot[a.packet_id] = 0;
    p.slot_state[a.packet_id] = 0;
    --p.inflight;
    return;
  }
  if (type == 5) {  // PUBREC → PUBREL, await PUBCOMP
    p.slot_state[a.packet_id] = 2;
    WriteAck(c->out.Append(kAckSize), kPubrel, a.packet_id);
    return;
  }
  p.slot[a.packet_id] = 0;
  p.slot_state[a.packet_id] = 0;
  --p.inflight;
  ++p.acked;
  p.shared->acked.store(p.acked, std::memory_order_relaxed);
  if (p.blocked && p.inflight < p.window) {
    p.blocked = false;
    MakeRunnable(c);
  }
}

void Thread::HandlePublish(Conn* c, const IncomingPublish& p, uint64_t now) {
  SubState* s = c->sub.get();
  if (s == nullptr) {
    Fail(c, "PUBLISH on a connection that subscribed to nothing");
    return;
  }
  // Topic aliases the broker sets up towards us [MQTT-3.3.2-12].
  if (p.topic_alias != 0) {
    if (s->aliases.empty()) s->aliases.assign(65536, 0);
    if (!p.topic.empty()) {
      s->aliases[p.topic_alias] = 1;
    } else if (!s->aliases[p.topic_alias]) {
      run_->Error(Cat(c->client_id, ": unknown topic alias ", p.topic_alias));
    }
  } else if (p.topic.empty()) {
    run_->Error(Cat(c->client_id, ": PUBLISH without topic or alias"));
  }
  if (p.qos == 1) {
    WriteAck(c->out.Append(kAckSize), kPuback, p.packet_id);
  } else if (p.qos == 2) {
    if (s->qos2.empty()) s->qos2.assign(65536, 0);
    const bool resent = s->qos2[p.packet_id] != 0;
    s->qos2[p.packet_id] = 1;
    WriteAck(c->out.Append(kAckSize), kPubrec, p.packet_id);
    if (resent) {
      if (!p.dup) {
        run_->Error(Cat(c->client_id, ": QoS 2 packet id ", p.packet_id, " reused before PUBREL"));
      }
      return;  // the same message again: delivered once (method B, §4.3.3)
    }
  }
  if (c->role == Role::kMonitor) {
    std::lock_guard<std::mutex> lock(run_->mu);
    SysValues& v = run_->sys[run_->o.hosts[static_cast<size_t>(c->host)].ToString()];
    // Start values: what the broker reported before publishing began. End values: what it
    // reports after the drain (see Run()). Periodic updates in between are not kept.
    if (run_->sys_end.load()) {
      v.end[std::string(p.topic)] = std::string(p.payload);
    } else if (run_->phase_now() == Phase::kSetup) {
      v.start[std::string(p.topic)] = std::string(p.payload);
    }
    return;
  }
  const std::optional<Stamp> stamp = ReadStamp(p.payload);
  if (!stamp ||
      (stamp->publisher >= static_cast<uint32_t>(run_->npubs) &&
       run_->o.scenario != Scenario::kSub) ||
      stamp->publisher >= (1u << 20)) {
    ++foreign;
    return;
  }
  ++s->received;
  const bool slow = c->role == Role::kSlow;
  if (slow) {
    ++slow_received_local_;
  } else {
    ++received_local_;
  }
  if (stamp->time_ns >= run_->measure_from_ns.load(std::memory_order_relaxed) && !slow &&
      now >= stamp->time_ns) {
    latency.Record(now - stamp->time_ns);
    interval_latency_.Record(now - stamp->time_ns);
  }
  const uint32_t pub = stamp->publisher;
  if (run_->split && !slow) {
    if (!run_->split_set->Mark(pub, stamp->sequence)) ++s->split_duplicates;
    if (s->order.Observe(pub, stamp->sequence)) ++s->split_reorders;
  } else {
    if (pub >= s->trackers.size()) s->trackers.resize(pub + 1);
    s->trackers[pub].Observe(stamp->sequence);
  }
  if (!slow && pub < local_delivered_.size()) {
    if (local_delivered_[pub]++ == 0) dirty_pubs_.push_back(pub);
  }
}

void Thread::FlushDelivered() {
  for (uint32_t pub : dirty_pubs_) {
    const uint64_t n = local_delivered_[pub];
    local_delivered_[pub] = 0;
    PubShared& ps = run_->pubs[pub];
    const uint64_t total = ps.delivered.fetch_add(n) + n;
    if (ps.waiting.load() && total >= ps.wake_at.load(std::memory_order_relaxed) &&
        ps.waiting.exchange(false)) {
      Thread* owner = run_->threads[static_cast<size_t>(ps.thread)].get();
      if (owner == this) {
        recheck_.store(true, std::memory_order_relaxed);
      } else {
        owner->Wake();
      }
    }
  }
  dirty_pubs_.clear();
  received.store(received_local_, std::memory_order_relaxed);
  slow_received.store(slow_received_local_, std::memory_order_relaxed);
}

void Thread::Pump(Conn* c, uint64_t now) {
  if (c->state != State::kReady || run_->phase_now() != Phase::kRunning) return;
  if (!c->writable || c->out.size() >= kOutHighWater) return;  // EPOLLOUT resumes us
  PubState& p = *c->pub;
  const Options& o = run_->o;
  if (p.start_ns == 0) {
    // Rate-paced publishers are staggered evenly over one period, so that --rate on many
    // publishers is a smooth aggregate rate and not synchronized bursts.
    const double stagger = o.rate > 0 ? p.id * 1e9 / (o.rate * run_->npubs) : 0;
    p.start_ns = run_->start_ns.load() + static_cast<uint64_t>(stagger);
  }
  uint64_t allowed = UINT64_MAX;
  if (p.window != 0) {
    uint64_t inflight = 0;
    if (o.qos > 0) {
      inflight = p.inflight;
    } else {
      const uint64_t done = p.shared->delivered.load() / p.shared->fanout;
      inflight = p.seq > done ? p.seq - done : 0;
    }
    if (inflight >= p.window) {
      p.blocked = true;
      if (o.qos == 0) {
        // Ask the subscribers' threads to wake us once half the window has been delivered.
        const uint64_t resume =
            (p.seq - p.window + std::max<uint64_t>(1, p.window / 2)) * p.shared->fanout;
        p.shared->wake_at.store(resume, std::memory_order_relaxed);
        p.shared->waiting.store(true);
        if (p.shared->delivered.load() >= resume && p.shared->waiting.exchange(false)) {
          p.blocked = false;
          MakeRunnable(c);
        }
      }
      return;
    }
    allowed = p.window - inflight;
  }
  if (o.rate > 0) {
    if (now < p.start_ns) return;
    const uint64_t due =
        static_cast<uint64_t>(static_cast<double>(now - p.start_ns) * o.rate / 1e9) + 1;
    if (due <= p.seq) return;
    allowed = std::min(allowed, due - p.seq);
  }
  const size_t message = p.first[0].size();
  const uint64_t batch = std::max<uint64_t>(1, kBatchBytes / message);
  const bool capped = allowed > batch;
  allowed = std::min(allowed, batch);

  const uint64_t measure_from = run_->measure_from_ns.load(std::memory_order_relaxed);
  for (uint64_t i = 0; i < allowed; ++i) {
    const size_t t = p.next_topic;
    const PublishTemplate& tmpl = (p.alias_sent[t] && !p.rest[t].empty()) ? p.rest[t] : p.first[t];
    p.alias_sent[t] = true;
    uint16_t pid = 0;
    if (o.qos > 0) {
      while (p.slot[p.next_pid] != 0 || p.next_pid == 0) ++p.next_pid;
      pid = p.next_pid++;
      p.slot[pid] = p.seq + 1;
      p.slot_state[pid] = 1;
      ++p.inflight;
    }
    tmpl.Write(c->out.Append(tmpl.size()), pid, Stamp{now, p.id, p.seq});
    if (o.rate > 0 && now >= measure_from) {
      const uint64_t scheduled = p.start_ns + static_cast<uint64_t>(p.seq * 1e9 / o.rate);
      if (now > scheduled) pacing_lag_max_ns = std::max(pacing_lag_max_ns, now - scheduled);
    }
    ++p.seq;
    if (++p.next_topic == p.topics.size()) p.next_topic = 0;
  }
  p.shared->sent.store(p.seq, std::memory_order_relaxed);
  sent_local_ += allowed;
  sent.store(sent_local_, std::memory_order_relaxed);
  Flush(c);
  // More to send now (batch cap), or the window may now be full: the next Pump either sends
  // or registers for the wake-up (acks, deliveries). Rate-paced sends resume from Timers().
  if ((capped || (p.window != 0 && o.rate == 0)) && c->state == State::kReady && c->writable &&
      c->out.size() < kOutHighWater) {
    MakeRunnable(c);
  }
}

void Thread::Disconnect(Conn* c) {
  if (c->fd < 0) return;
  char* d = c->out.Append(2);
  d[0] = static_cast<char>(0xE0);
  d[1] = 0;
  Flush(c);
  Close(c);
}

void Thread::Timers(uint64_t now) {
  const Phase phase = run_->phase_now();
  // Conn mode: keep --connect-concurrency connects outstanding (this thread's share).
  const int share = std::max(1, run_->o.connect_concurrency / run_->o.threads);
  while (next_idle_ < conns_.size() && connecting_ < share) {
    Conn* c = conns_[next_idle_++].get();
    if (c->role == Role::kIdle && c->state == State::kConnecting && c->fd < 0) StartConnect(c);
  }
  if (recheck_.exchange(false)) {
    uint64_t drain = 0;
    [[maybe_unused]] ssize_t n = read(evfd_, &drain, sizeof drain);
    for (auto& c : conns_) {
      if (c->pub && c->state == State::kReady) {
        c->pub->blocked = false;
        MakeRunnable(c.get());
      }
    }
  }
  for (auto& cp : conns_) {
    Conn* c = cp.get();
    if (c->state != State::kReady) continue;
    switch (c->role) {
      case Role::kPublisher:
        if (run_->o.rate > 0 && !c->pub->runnable && !c->pub->blocked && phase == Phase::kRunning) {
          MakeRunnable(c);  // Pump checks whether the next message is due
        }
        break;
      case Role::kProbe:
        if (phase == Phase::kRunning && c->ping_sent_ns == 0 && now >= c->next_ping_ns) {
          char* d = c->out.Append(2);
          d[0] = static_cast<char>(0xC0);
          d[1] = 0;
          c->ping_sent_ns = now;
          c->next_ping_ns = now + kProbeIntervalNs;
          Flush(c);
        }
        break;
      case Role::kMonitor:
        if (run_->sys_end.load() && !c->resubscribe) {
          c->resubscribe = true;
          std::vector<std::string> topics(std::begin(kSysTopics), std::end(kSysTopics));
          SendSubscribe(c, topics, 0);
        }
        break;
      default: break;
    }
  }
  if (now >= next_slow_ns_) {
    const size_t budget = static_cast<size_t>(std::max<int64_t>(
        1, run_->o.slow_rate * static_cast<int64_t>(kSlowTickNs) / 1'000'000'000));
    for (auto& c : conns_) {
      if (c->role == Role::kSlow && c->state == State::kReady) ReadAll(c.get(), budget);
    }
    next_slow_ns_ = now + kSlowTickNs;
  }
  if (now >= next_keepalive_scan_ns_ && run_->o.keepalive > 0) {
    const uint64_t idle = static_cast<uint64_t>(run_->o.keepalive) * 500'000'000ull;
    for (auto& c : conns_) {
      if (c->state == State::kReady && c->role != Role::kProbe && now - c->last_send_ns > idle) {
        char* d = c->out.Append(2);
        d[0] = static_cast<char>(0xC0);
        d[1] = 0;
        c->last_send_ns = now;
        Flush(c.get());
      }
    }
    next_keepalive_scan_ns_ = now + 1'000'000'000ull;
  }
  const uint64_t epoch = run_->epoch.load(std::memory_order_acquire);
  if (epoch != seen_epoch_) {
    std::lock_guard<std::mutex> lock(mailbox_mu);
    mailbox_latency.Merge(interval_latency_);
    mailbox_probe.Merge(interval_probe_);
    interval_latency_.Reset();
    interval_probe_.Reset();
    seen_epoch_ = epoch;
    handed_epoch.store(epoch, std::memory_order_release);
  }
}

void Thread::Loop() {
  for (auto& c : conns_) {
    if (c->role != Role::kIdle) StartConnect(c.get());
  }
  std::vector<epoll_event> events(256);
  std::vector<Conn*> work;
  while (run_->phase_now() != Phase::kStopping) {
    uint64_t now = NowNs();
    Timers(now);
    work.swap(runnable_);
    for (Conn* c : work) {
      c->pub->runnable = false;
      Pump(c, now);
    }
    work.clear();
    // Sleep until the next event; at most 1 ms while publishing on a rate (pacing resolution)
    // or probing, else 50 ms (phase changes also arrive through the eventfd).
    int64_t timeout_ns = 50'000'000;
    if (!runnable_.empty() || !pending_reads_.empty()) {
      timeout_ns = 0;
    } else if (run_->phase_now() == Phase::kRunning &&
               (run_->o.rate > 0 || run_->o.probes > 0 || run_->o.slow_subs > 0)) {
      timeout_ns = 1'000'000;
    }
    timespec ts{static_cast<time_t>(timeout_ns / 1'000'000'000),
                static_cast<long>(timeout_ns % 1'000'000'000)};
    const int n = epoll_pwait2(epfd_, events.data(), static_cast<int>(events.size()), &ts, nullptr);
    for (int i = 0; i < n; ++i) {
      Conn* c = static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr);
      if (c == nullptr) {
        recheck_.store(true, std::memory_order_relaxed);
        continue;
      }
      OnEvent(c, events[static_cast<size_t>(i)].events);
    }
    if (!pending_reads_.empty()) {
      work.swap(pending_reads_);
      for (Conn* c : work) {
        c->pending_read = false;
        if (c->state != State::kClosed) ReadAll(c, SIZE_MAX);
      }
      work.clear();
    }
  }
  for (auto& c : conns_) {
    if (c->state != State::kClosed) Disconnect(c.get());
  }
  FlushDelivered();
  std::lock_guard<std::mutex> lock(mailbox_mu);
  mailbox_latency.Merge(interval_latency_);
  mailbox_probe.Merge(interval_probe_);
}

// ---------------------------------------------------------------------------------------------

absl::Status Resolve(RunState* run) {
  for (const HostPort& hp : run->o.hosts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const std::string port = std::to_string(hp.port);
    if (int rc = getaddrinfo(hp.host.c_str(), port.c_str(), &hints, &res); rc != 0 || !res) {
      return absl::InvalidArgumentError(
          Cat("cannot resolve ", hp.ToString(), ": ", gai_strerror(rc)));
    }
    sockaddr_storage ss{};
    std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
    run->addrs.push_back(ss);
    run->addr_lens.push_back(res->ai_addrlen);
    freeaddrinfo(res);
  }
  return absl::OkStatus();
}

// Wildcard-heavy filters for pairs --subscriptions: subscriber `i`'s `k`-th filter, and the
// one topic its publisher sends that matches it and no other filter of the run.
std::string PairFilter(const std::string& prefix, int i, int k) {
  switch (k % 4) {
    case 0: return Cat(prefix, "/", i, "/", k, "/+");
    case 1: return Cat(prefix, "/", i, "/+/", k);
    case 2: return Cat(prefix, "/", i, "/", k, "/#");
    default: return Cat(prefix, "/+/", i, "/", k);
  }
}
std::string PairTopic(const std::string& prefix, int i, int k) {
  switch (k % 4) {
    case 0: return Cat(prefix, "/", i, "/", k, "/a");
    case 1: return Cat(prefix, "/", i, "/b/", k);
    case 2: return Cat(prefix, "/", i, "/", k, "/c/d");
    default: return Cat(prefix, "/f/", i, "/", k);
  }
}

// The broker under test (--broker-pid): its CPU time between two points and its resident
// memory, sampled by the main thread. Owned by Run(); not thread-safe.
class BrokerMeter {
 public:
  explicit BrokerMeter(int pid) : pid_(pid) {
    if (pid_ == 0) return;
    rss_start_kb_ = Rss();
    rss_max_kb_ = rss_start_kb_;
  }
  bool enabled() const { return pid_ != 0; }
  void Sample() {
    if (pid_ == 0) return;
    const uint64_t rss = Rss();
    rss_max_kb_ = std::max(rss_max_kb_, rss);
    rss_last_kb_ = rss;
  }
  void StartCpu() {
    if (pid_ != 0) cpu_from_ = ProcessCpuSeconds(pid_).value_or(0);
  }
  void StopCpu() {
    if (pid_ != 0) cpu_to_ = ProcessCpuSeconds(pid_).value_or(cpu_from_);
  }
  // Fills the summary's broker fields; `rss_end` the last sample.
  void Fill(Summary* s) const {
    if (pid_ == 0) return;
    s->broker_measured = true;
    s->broker_cpu_s = cpu_to_ - cpu_from_;
    s->broker_rss_start_kb = rss_start_kb_;
    s->broker_rss_max_kb = rss_max_kb_;
    s->broker_rss_end_kb = rss_last_kb_;
    s->broker_hwm_kb = ProcessStatusKb(pid_, "VmHWM").value_or(0);
  }

 private:
  uint64_t Rss() const { return ProcessStatusKb(pid_, "VmRSS").value_or(0); }
  int pid_;
  double cpu_from_ = 0, cpu_to_ = 0;
  uint64_t rss_start_kb_ = 0, rss_max_kb_ = 0, rss_last_kb_ = 0;
};

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

void SleepUntil(uint64_t t) {
  const uint64_t now = NowNs();
  if (t > now) std::this_thread::sleep_for(std::chrono::nanoseconds(t - now));
}

}  // namespace

absl::StatusOr<Summary> Run(const Options& options, std::ostream* progress) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  g_clock = options.clock == "realtime" ? CLOCK_REALTIME : CLOCK_MONOTONIC;
  auto run = std::make_unique<RunState>();
  RunState& r = *run;
  r.o = options;
  const Options& o = r.o;
  {
    std::random_device rd;
    r.run_id = fmt::format("{:06x}", rd() & 0xFFFFFF);
  }
  r.prefix = o.topic.empty() ? Cat("lg/", r.run_id) : o.topic;
  r.version = o.mqtt == 5 ? ProtocolVersion::kMqtt5 : ProtocolVersion::kMqtt311;
  if (absl::Status s = Resolve(&r); !s.ok()) return s;

  const Scenario sc = o.scenario;
  const bool has_pubs = sc != Scenario::kSub && sc != Scenario::kConn;
  const bool has_subs = sc != Scenario::kPub && sc != Scenario::kConn;
  r.npubs = has_pubs ? o.pubs : 0;
  r.pubs = std::make_unique<PubShared[]>(static_cast<size_t>(std::max(1, r.npubs)));
  r.split = sc == Scenario::kShared;
  if (r.split) r.split_set = std::make_unique<SharedSequenceSet>(static_cast<uint32_t>(r.npubs));
  for (int t = 0; t < o.threads; ++t) r.threads.push_back(std::make_unique<Thread>(&r, t));

  const int nhosts = static_cast<int>(o.hosts.size());
  const int sub_host_offset = nhosts > 1 ? 1 : 0;
  int next_thread = 0;
  auto place = [&](Role role, int index, int host, std::string_view tag) {
    auto c = std::make_unique<Conn>();
    c->role = role;
    c->index = index;
    c->host = host % nhosts;
    c->v5 = o.mqtt == 5;
    c->client_id = Cat(o.client_prefix, "-", r.run_id, "-", std::string(tag), index);
    Thread* t = r.threads[static_cast<size_t>(next_thread++ % o.threads)].get();
    return t->Add(std::move(c));
  };
  auto sub_filters = [&](int j) -> std::vector<std::string> {
    switch (sc) {
      case Scenario::kFanIn: return {Cat(r.prefix, "/+")};
      case Scenario::kFanOut: return {Cat(r.prefix, "/fan")};
      case Scenario::kShared: return {Cat("$share/", o.group, "/", r.prefix, "/+")};
      case Scenario::kSub: return {o.filter.empty() ? Cat(r.prefix, "/#") : o.filter};
      case Scenario::kPairs: {
        if (o.subscriptions == 0) return {Cat(r.prefix, "/", j)};
        std::vector<std::string> f;
        const int per = o.subscriptions / o.subs + (j < o.subscriptions % o.subs ? 1 : 0);
        for (int k = 0; k < per; ++k) f.push_back(PairFilter(r.prefix, j, k));
        return f;
      }
      default: return {};
    }
  };
  if (has_subs) {
    for (int j = 0; j < o.subs; ++j) {
      Conn* c = place(Role::kSubscriber, j, j + sub_host_offset, "s");
      c->sub = std::make_unique<SubState>();
      c->sub->filters = sub_filters(j);
      c->sub->trackers.resize(static_cast<size_t>(r.npubs));
    }
    for (int j = 0; j < o.slow_subs; ++j) {
      Conn* c = place(Role::kSlow, j, j + sub_host_offset, "w");
      c->sub = std::make_unique<SubState>();
      c->sub->filters = sub_filters(j);
      c->sub->trackers.resize(static_cast<size_t>(r.npubs));
    }
  }
  for (int i = 0; i < r.npubs; ++i) {
    Conn* c = place(Role::kPublisher, i, i, "p");
    c->pub = std::make_unique<PubState>();
    PubState& p = *c->pub;
    p.id = static_cast<uint32_t>(i);
    p.shared = &r.pubs[static_cast<size_t>(i)];
    p.shared->thread = static_cast<int>((next_thread - 1) % o.threads);
    switch (sc) {
      case Scenario::kFanOut:
        p.topics = {Cat(r.prefix, "/fan")};
        p.shared->fanout = static_cast<uint64_t>(o.subs);
        break;
      case Scenario::kFanIn:
        p.topics = {Cat(r.prefix, "/", i)};
        p.shared->fanout = static_cast<uint64_t>(o.subs);
        break;
      case Scenario::kPairs:
        if (o.subscriptions == 0) {
          p.topics = {Cat(r.prefix, "/", i)};
        } else {
          const int per = o.subscriptions / o.subs + (i < o.subscriptions % o.subs ? 1 : 0);
          for (int k = 0; k < per; ++k) p.topics.push_back(PairTopic(r.prefix, i, k));
        }
        break;
      default: p.topics = {Cat(r.prefix, "/", i)};
    }
  }
  for (int k = 0; k < o.probes; ++k) place(Role::kProbe, k, k, "q");
  if (o.sys_stats) {
    for (int h = 0; h < nhosts; ++h) {
      Conn* c = place(Role::kMonitor, h, h, "m");
      c->sub = std::make_unique<SubState>();
    }
  }
  r.expected_ready = next_thread;
  if (sc == Scenario::kConn) {
    for (int k = 0; k < o.conns; ++k) place(Role::kIdle, k, k, "c");
  }

  auto total = [&](std::atomic<uint64_t> Thread::*counter) {
    uint64_t sum = 0;
    for (auto& t : r.threads) sum += ((*t).*counter).load(std::memory_order_relaxed);
    return sum;
  };
  Histogram interval_latency, interval_probe;
  // Collects each thread's interval histograms (they hand them over within one loop turn).
  auto collect_interval = [&] {
    const uint64_t epoch = r.epoch.fetch_add(1) + 1;
    for (auto& t : r.threads) t->Wake();
    const uint64_t deadline = NowNs() + 100'000'000;
    for (auto& t : r.threads) {
      while (t->handed_epoch.load(std::memory_order_acquire) < epoch && NowNs() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
    }
    interval_latency.Reset();
    interval_probe.Reset();
    for (auto& t : r.threads) {
      std::lock_guard<std::mutex> lock(t->mailbox_mu);
      interval_latency.Merge(t->mailbox_latency);
      interval_probe.Merge(t->mailbox_probe);
      t->mailbox_latency.Reset();
      t->mailbox_probe.Reset();
    }
  };
  auto wake_all = [&] {
    for (auto& t : r.threads) t->Wake();
  };
  auto stop = [&] {
    r.phase.store(static_cast<int>(Phase::kStopping));
    wake_all();
    for (auto& t : r.threads) t->Join();
  };

  if (o.broker_pid != 0 && !ProcessCpuSeconds(o.broker_pid).has_value()) {
    return absl::InvalidArgumentError(Cat("--broker-pid ", o.broker_pid, ": no such process"));
  }
  BrokerMeter broker(o.broker_pid);
  broker.StartCpu();  // conn mode: CPU of connecting and holding
  const uint64_t t0 = NowNs();
  for (auto& t : r.threads) t->Start();

  // Set-up: every connection accepted (and subscribed), or a failure.
  const uint64_t setup_deadline =
      t0 + 30'000'000'000ull + static_cast<uint64_t>(o.conns) * 2'000'000ull;
  uint64_t next_line = t0 + 1'000'000'000ull;
  uint64_t last_done = 0;
  for (;;) {
    const bool conns_done =
        sc != Scenario::kConn ||
        r.connects_done.load() + r.connects_failed.load() >= static_cast<uint64_t>(o.conns);
    if (r.ready.load() >= r.expected_ready && conns_done) break;
    if (r.closed_early.load() > 0 || NowNs() > setup_deadline) {
      stop();
      std::lock_guard<std::mutex> lock(r.mu);
      std::string why = r.error_samples.empty() ? "timed out" : r.error_samples.front();
      return absl::UnavailableError(Cat("set-up failed: ", why));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (progress && NowNs() >= next_line && sc == Scenario::kConn) {
      const uint64_t done = r.connects_done.load();
      Progress p;
      p.t = (NowNs() - t0) / 1e9;
      p.connections = done;
      p.errors = r.errors.load();
      *progress << ProgressLine(p) << " (" << done - last_done << " connects/s)" << std::endl;
      last_done = done;
      next_line += 1'000'000'000ull;
    }
  }

  Summary s;
  s.options = o;
  s.run_id = r.run_id;
  if (sc == Scenario::kConn) {
    s.connections = r.connects_done.load();
    s.connect_failed = r.connects_failed.load();
    if (s.connections)
      s.connect_elapsed_s = (r.last_connack_ns.load() - r.first_connect_ns.load()) / 1e9;
    if (!o.ready_file.empty()) std::ofstream(o.ready_file) << s.connections << "\n";
    if (progress) {
      *progress << "connected " << s.connections << " in " << s.connect_elapsed_s << " s ("
                << Si(s.connect_elapsed_s > 0 ? s.connections / s.connect_elapsed_s : 0)
                << "/s); holding for " << o.duration << " s" << std::endl;
    }
    r.phase.store(static_cast<int>(Phase::kRunning));
    const uint64_t hold_end = NowNs() + static_cast<uint64_t>(o.duration * 1e9);
    do {
      broker.Sample();
      SleepUntil(std::min<uint64_t>(hold_end, NowNs() + 100'000'000ull));
    } while (NowNs() < hold_end);
    broker.Sample();  // the idle connections' memory: the last sample before they close
    broker.StopCpu();
    broker.Fill(&s);
    stop();
    for (auto& t : r.threads) s.connect_latency.Merge(t->connect_latency);
    s.errors = r.errors.load();
    s.error_samples = r.error_samples;
    s.measured_s = o.duration;
    Judge(&s);
    return s;
  }

  if (o.sys_stats) {
    const uint64_t deadline = NowNs() + 3'000'000'000ull;
    while (NowNs() < deadline) {
      std::lock_guard<std::mutex> lock(r.mu);
      size_t have = 0;
      for (auto& [host, v] : r.sys) have += v.start.size();
      if (have >= std::size(kSysTopics) * static_cast<size_t>(nhosts)) break;
      r.mu.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      r.mu.lock();
    }
  }

  // Publishing.
  const uint64_t start = NowNs();
  const uint64_t warm_end = start + static_cast<uint64_t>(o.warmup * 1e9);
  const uint64_t end = start + static_cast<uint64_t>(o.duration * 1e9);
  r.start_ns.store(start);
  if (o.warmup == 0) r.measure_from_ns.store(start);
  r.phase.store(static_cast<int>(Phase::kRunning));
  wake_all();
  double cpu_from = CpuSeconds();
  broker.StartCpu();
  uint64_t next_sample = start;
  uint64_t sent_from = 0, recv_from = 0;
  bool warm = o.warmup == 0;
  uint64_t last_t = start, last_sent = 0, last_recv = 0;
  next_line = start + 1'000'000'000ull;
  while (true) {
    const uint64_t now = NowNs();
    if (!warm && now >= warm_end) {
      r.measure_from_ns.store(now);
      sent_from = total(&Thread::sent);
      recv_from = total(&Thread::received);
      cpu_from = CpuSeconds();
      broker.StartCpu();
      warm = true;
    }
    if (now >= end) break;
    if (broker.enabled() && now >= next_sample) {
      broker.Sample();
      next_sample = now + 100'000'000ull;
    }
    if (now >= next_line) {
      collect_interval();
      const uint64_t sent_now = total(&Thread::sent), recv_now = total(&Thread::received);
      const double dt = (now - last_t) / 1e9;
      if (progress && !o.quiet) {
        Progress p;
        p.t = (now - start) / 1e9;
        p.sent_per_s = (sent_now - last_sent) / dt;
        p.received_per_s = (recv_now - last_recv) / dt;
        p.errors = r.errors.load();
        p.latency = &interval_latency;
        p.probe = &interval_probe;
        *progress << ProgressLine(p) << std::endl;
      }
      last_t = now;
      last_sent = sent_now;
      last_recv = recv_now;
      next_line += 1'000'000'000ull;
    }
    SleepUntil(
        std::min({end, next_line, warm ? end : warm_end, broker.enabled() ? next_sample : end}));
  }
  const uint64_t measured_end = NowNs();
  const uint64_t sent_to = total(&Thread::sent), recv_to = total(&Thread::received);
  const double cpu_to = CpuSeconds();
  broker.StopCpu();
  broker.Sample();
  r.phase.store(static_cast<int>(Phase::kDraining));
  wake_all();

  // Drain: outstanding acknowledgements and deliveries, up to --drain.
  const uint64_t drain_deadline = NowNs() + static_cast<uint64_t>(o.drain * 1e9);
  while (NowNs() < drain_deadline && sc != Scenario::kSub) {
    bool done = true;
    for (int i = 0; i < r.npubs && done; ++i) {
      const PubShared& ps = r.pubs[static_cast<size_t>(i)];
      const uint64_t sent = ps.sent.load();
      if (o.qos > 0 && ps.acked.load() < sent) done = false;
      if (has_subs && !r.split && ps.delivered.load() < sent * ps.fanout) done = false;
      if (r.split && r.split_set->unique(static_cast<uint32_t>(i)) < sent) done = false;
    }
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (o.sys_stats) {
    // Both brokers refresh $SYS once per interval (1 s in the benchmark configurations); a
    // new SUBSCRIBE then returns the retained, current values.
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    r.sys_end.store(true);
    wake_all();
    const uint64_t deadline = NowNs() + 3'000'000'000ull;
    while (NowNs() < deadline) {
      size_t have = 0;
      {
        std::lock_guard<std::mutex> lock(r.mu);
        for (auto& [host, v] : r.sys) have += v.end.size();
      }
      if (have >= std::size(kSysTopics) * static_cast<size_t>(nhosts)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  stop();

  // Totals.
  s.measured_s = (measured_end - (o.warmup > 0 ? r.measure_from_ns.load() : start)) / 1e9;
  s.sent_measured = sent_to - sent_from;
  s.received_measured = recv_to - recv_from;
  s.loadgen_cpu_s = cpu_to - cpu_from;
  broker.Fill(&s);
  std::vector<uint64_t> sent(static_cast<size_t>(r.npubs)), acked(static_cast<size_t>(r.npubs));
  for (int i = 0; i < r.npubs; ++i) {
    sent[static_cast<size_t>(i)] = r.pubs[static_cast<size_t>(i)].sent.load();
    acked[static_cast<size_t>(i)] = r.pubs[static_cast<size_t>(i)].acked.load();
    s.sent += sent[static_cast<size_t>(i)];
    s.acked += acked[static_cast<size_t>(i)];
  }
  bool window_set = false;
  for (auto& t : r.threads) {
    s.latency.Merge(t->latency);
    s.probe.Merge(t->probe);
    s.pacing_lag_max_ns = std::max(s.pacing_lag_max_ns, t->pacing_lag_max_ns);
    s.foreign += t->foreign;
    for (auto& cp : t->conns()) {
      const Conn& c = *cp;
      if (c.role == Role::kPublisher && !window_set && c.pub->window != 0) {
        s.window_effective = static_cast<int>(c.pub->window);
        window_set = true;
      }
      if (c.role != Role::kSubscriber && c.role != Role::kSlow) continue;
      const SubState& sub = *c.sub;
      const bool slow = c.role == Role::kSlow;
      if (slow) {
        s.slow_received += sub.received;
        s.slow_disconnected += sub.disconnected ? 1 : 0;
      } else {
        s.received += sub.received;
        s.per_subscriber.push_back(sub.received);
        s.duplicates += sub.split_duplicates;
        s.reorders += sub.split_reorders;
      }
      if (r.split && !slow) continue;
      for (size_t pub = 0; pub < sub.trackers.size(); ++pub) {
        const SequenceTracker& tr = sub.trackers[pub];
        const bool feeds = sc == Scenario::kSub     ? tr.received() > 0
                           : sc == Scenario::kPairs ? static_cast<int>(pub) == c.index
                                                    : true;
        if (!feeds) {
          if (tr.received() > 0) {
            ++s.errors;
            s.error_samples.push_back(Cat(c.client_id, " received messages of publisher ", pub,
                                          " it did not subscribe to"));
          }
          continue;
        }
        const uint64_t should = sc == Scenario::kSub ? tr.unique() + tr.missing() : sent[pub];
        const uint64_t lost = tr.Lost(should);
        if (slow) {
          s.slow_loss += lost;
          continue;
        }
        s.expected += should;
        s.loss += lost;
        s.duplicates += tr.duplicates();
        s.reorders += tr.reorders();
        s.tracking_degraded |= tr.degraded();
        if (o.qos > 0 && sc != Scenario::kSub) {
          const uint64_t a = acked[pub];
          const uint64_t got = tr.UniqueBelow(a);
          s.silent_drops += a > got ? a - got : 0;
        }
      }
    }
  }
  if (r.split) {
    for (int i = 0; i < r.npubs; ++i) {
      const uint64_t u = r.split_set->unique(static_cast<uint32_t>(i));
      s.expected += sent[static_cast<size_t>(i)];
      s.loss += sent[static_cast<size_t>(i)] > u ? sent[static_cast<size_t>(i)] - u : 0;
      if (o.qos > 0)
        s.silent_drops += acked[static_cast<size_t>(i)] > u ? acked[static_cast<size_t>(i)] - u : 0;
    }
  }
  s.errors += r.errors.load();
  {
    std::lock_guard<std::mutex> lock(r.mu);
    for (const std::string& e : r.error_samples) {
      if (s.error_samples.size() < kMaxErrorSamples) s.error_samples.push_back(e);
    }
    s.sys = r.sys;
  }
  Judge(&s);
  return s;
}

}  // namespace simq::loadgen

#include "loadgen/sink.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

#include "broker/protocol/decoder.h"
#include "broker/protocol/encoder.h"
#include "broker/protocol/topic.h"
#include "loadgen/buffer.h"
#include "loadgen/mqtt_wire.h"
#include "loadgen/report.h"
#include "loadgen/strcat.h"

namespace simq::loadgen {

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$' && !filter.empty() &&
      (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  size_t f = 0, t = 0;
  while (true) {
    const size_t fe = std::min(filter.find('/', f), filter.size());
    const std::string_view level = filter.substr(f, fe - f);
    if (level == "#") return true;
    const size_t te = std::min(topic.find('/', t), topic.size());
    if (t > topic.size()) return false;  // topic has fewer levels
    if (level != "+" && level != topic.substr(t, te - t)) return false;
    const bool filter_done = fe == filter.size();
    const bool topic_done = te == topic.size();
    if (filter_done || topic_done) {
      if (filter_done && topic_done) return true;
      // "a/#" matches "a": the filter's next level is a final '#'.
      return topic_done && filter.substr(fe + 1) == "#";
    }
    f = fe + 1;
    t = te + 1;
  }
}

namespace {

std::atomic<bool> g_stop{false};

struct SinkConn {
  int fd = -1;
  bool v5 = false;
  bool writable = true;
  bool dirty = false;
  Buffer in;
  Buffer out;
  std::vector<std::string> aliases;  // inbound topic aliases
};

struct Subscription {
  SinkConn* conn;
  std::string filter;
  std::string group;  // empty unless $share
};

class Sink {
 public:
  int Run(const Options& o);

 private:
  void Accept();
  void Read(SinkConn* c);
  bool Handle(SinkConn* c, const FrameHeader& h, std::string_view frame);
  void Forward(std::string_view topic, std::string_view payload);
  void AppendQos0(SinkConn* c, std::string_view topic, std::string_view payload);
  void Flush(SinkConn* c);
  void Drop(SinkConn* c);

  int epfd_ = -1;
  int listen_fd_ = -1;
  std::vector<std::unique_ptr<SinkConn>> conns_;
  std::vector<Subscription> subs_;
  std::vector<SinkConn*> dirty_;
  std::map<std::string, size_t> group_next_;
  std::unique_ptr<char[]> scratch_ = std::make_unique_for_overwrite<char[]>(1 << 20);
  uint64_t in_ = 0, out_ = 0, dropped_ = 0;
};

int Sink::Run(const Options& o) {
  absl::StatusOr<std::vector<HostPort>> addr = ParseHosts(o.listen);
  if (!addr.ok() || addr->size() != 1) {
    fprintf(stderr, "sink: --listen: %s\n", std::string(addr.status().message()).c_str());
    return 2;
  }
  const HostPort& hp = addr->front();
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(hp.port);
  if (inet_pton(AF_INET, hp.host.c_str(), &sa.sin_addr) != 1) {
    fprintf(stderr, "sink: --listen needs an IPv4 address literal\n");
    return 2;
  }
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      listen(listen_fd_, 4096) != 0) {
    fprintf(stderr, "sink: cannot listen on %s: %s\n", hp.ToString().c_str(), strerror(errno));
    return 2;
  }
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = nullptr;
  epoll_ctl(epfd_, EPOLL_CTL_ADD, listen_fd_, &ev);
  signal(SIGINT, [](int) { g_stop = true; });
  signal(SIGTERM, [](int) { g_stop = true; });
  signal(SIGPIPE, SIG_IGN);
  fprintf(stderr, "sink: listening on %s\n", hp.ToString().c_str());

  std::vector<epoll_event> events(256);
  timespec last{};
  clock_gettime(CLOCK_MONOTONIC, &last);
  uint64_t last_in = 0, last_out = 0;
  while (!g_stop) {
    const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 100);
    for (int i = 0; i < n; ++i) {
      auto* c = static_cast<SinkConn*>(events[static_cast<size_t>(i)].data.ptr);
      if (c == nullptr) {
        Accept();
        continue;
      }
      if (c->fd < 0) continue;
      if (events[static_cast<size_t>(i)].events & EPOLLOUT) {
        c->writable = true;
        Flush(c);
      }
      if (events[static_cast<size_t>(i)].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
        Read(c);
    }
    std::vector<SinkConn*> dirty;
    dirty.swap(dirty_);
    for (SinkConn* c : dirty) {
      c->dirty = false;
      if (c->fd >= 0) Flush(c);
    }
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const double dt = (now.tv_sec - last.tv_sec) + (now.tv_nsec - last.tv_nsec) / 1e9;
    if (dt >= 1 && !o.quiet) {
      fprintf(stderr, "sink: in %s/s out %s/s dropped %llu conns %zu\n",
              Si((in_ - last_in) / dt).c_str(), Si((out_ - last_out) / dt).c_str(),
              static_cast<unsigned long long>(dropped_), conns_.size());
      last = now;
      last_in = in_;
      last_out = out_;
    }
  }
  fprintf(stderr, "sink: %llu in, %llu out, %llu dropped\n", static_cast<unsigned long long>(in_),
          static_cast<unsigned long long>(out_), static_cast<unsigned long long>(dropped_));
  return 0;
}

void Sink::Accept() {
  while (true) {
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<SinkConn>();
    c->fd = fd;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.ptr = c.get();
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    conns_.push_back(std::move(c));
  }
}

void Sink::Drop(SinkConn* c) {
  if (c->fd < 0) return;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, c->fd, nullptr);
  close(c->fd);
  c->fd = -1;
  std::erase_if(subs_, [c](const Subscription& s) { return s.conn == c; });
  // The SinkConn stays allocated (dirty_ may point to it); it is freed at exit.
}

void Sink::Flush(SinkConn* c) {
  while (!c->out.empty() && c->writable) {
    const ssize_t n = send(c->fd, c->out.data(), c->out.size(), MSG_NOSIGNAL);
    if (n > 0) {
      c->out.Consume(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c->writable = false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      Drop(c);
      return;
    }
  }
}

void Sink::Read(SinkConn* c) {
  while (c->fd >= 0) {
    const size_t have = c->in.size();
    char* base = scratch_.get();
    if (have) std::memcpy(base, c->in.data(), have);
    const size_t cap = (size_t{1} << 20) - have;
    const ssize_t n = recv(c->fd, base + have, cap, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      Drop(c);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    const size_t len = have + static_cast<size_t>(n);
    size_t pos = 0;
    FrameHeader h;
    while (pos < len) {
      const Split s = SplitFrame(base + pos, len - pos, &h);
      if (s == Split::kMalformed) {
        Drop(c);
        return;
      }
      if (s == Split::kNeedMore || len - pos < h.total()) break;
      if (h.total() > cap / 2) {  // bigger than we buffer: not a sink workload
        Drop(c);
        return;
      }
      if (!Handle(c, h, std::string_view(base + pos, h.total()))) {
        Drop(c);
        return;
      }
      pos += h.total();
    }
    c->in.Clear();
    if (pos < len) c->in.Append(std::string_view(base + pos, len - pos));
    if (!c->out.empty() && !c->dirty) {
      c->dirty = true;
      dirty_.push_back(c);
    }
    if (static_cast<size_t>(n) < cap) return;
  }
}

bool Sink::Handle(SinkConn* c, const FrameHeader& h, std::string_view frame) {
  const std::string_view body = frame.substr(h.header_size);
  const protocol::ProtocolVersion v =
      c->v5 ? protocol::ProtocolVersion::kMqtt5 : protocol::ProtocolVersion::kMqtt311;
  protocol::Frame f{
      protocol::FixedHeader{static_cast<protocol::PacketType>(h.type()),
                            static_cast<uint8_t>(h.first & 0x0F), h.header_size, h.remaining},
      body};
  switch (h.type()) {
    case 1: {  // CONNECT
      absl::StatusOr<protocol::ConnectPacket> connect = protocol::DecodeConnect(f);
      if (!connect.ok()) return false;
      c->v5 = connect->version == protocol::ProtocolVersion::kMqtt5;
      protocol::ConnackPacket ack;
      if (c->v5) ack.properties.topic_alias_maximum = 1024;
      std::string bytes;
      protocol::Encode(ack, connect->version, &bytes);
      c->out.Append(bytes);
      return true;
    }
    case 8: {  // SUBSCRIBE
      absl::StatusOr<protocol::SubscribePacket> sub = protocol::DecodeSubscribe(f, v);
      if (!sub.ok()) return false;
      protocol::SubackPacket ack;
      ack.packet_id = sub->packet_id;
      for (const protocol::TopicSubscription& ts : sub->subscriptions) {
        Subscription s{c, std::string(ts.filter), ""};
        if (auto shared = protocol::ParseSharedFilter(ts.filter)) {
          s.group = std::string(shared->share_name);
          s.filter = std::string(shared->filter);
        }
        subs_.push_back(std::move(s));
        ack.reason_codes.push_back(static_cast<protocol::ReasonCode>(ts.options.max_qos));
      }
      std::string bytes;
      protocol::Encode(ack, v, &bytes);
      c->out.Append(bytes);
      return true;
    }
    case 3: {  // PUBLISH
      IncomingPublish p;
      if (!ParsePublish(h.first, body, c->v5, &p)) return false;
      ++in_;
      std::string_view topic = p.topic;
      if (p.topic_alias != 0) {
        if (c->aliases.size() <= p.topic_alias) c->aliases.resize(p.topic_alias + 1u);
        if (!topic.empty()) {
          c->aliases[p.topic_alias] = std::string(topic);
        } else {
          topic = c->aliases[p.topic_alias];
        }
      }
      if (p.qos == 1) WriteAck(c->out.Append(kAckSize), kPuback, p.packet_id);
      if (p.qos == 2) WriteAck(c->out.Append(kAckSize), kPubrec, p.packet_id);
      Forward(topic, p.payload);
      return true;
    }
    case 6: {  // PUBREL
      IncomingAck a;
      if (!ParseAck(body, &a)) return false;
      WriteAck(c->out.Append(kAckSize), kPubcomp, a.packet_id);
      return true;
    }
    case 12: {  // PINGREQ
      char* d = c->out.Append(2);
      d[0] = static_cast<char>(0xD0);
      d[1] = 0;
      return true;
    }
    case 14:  // DISCONNECT
      return false;
    default: return true;  // PUBACK etc. for nothing we sent: ignore
  }
}

void Sink::AppendQos0(SinkConn* c, std::string_view topic, std::string_view payload) {
  if (c->fd < 0) return;
  if (c->out.size() > (64u << 20)) {  // a subscriber that does not read: drop, counted
    ++dropped_;
    return;
  }
  const size_t body = 2 + topic.size() + (c->v5 ? 1 : 0) + payload.size();
  char header[5];
  size_t hl = 1;
  header[0] = 0x30;
  for (size_t rem = body;;) {
    const uint8_t b = rem & 0x7F;
    rem >>= 7;
    header[hl++] = static_cast<char>(rem ? b | 0x80 : b);
    if (!rem) break;
  }
  char* d = c->out.Append(hl + body);
  std::memcpy(d, header, hl);
  d += hl;
  d[0] = static_cast<char>(topic.size() >> 8);
  d[1] = static_cast<char>(topic.size());
  std::memcpy(d + 2, topic.data(), topic.size());
  d += 2 + topic.size();
  if (c->v5) *d++ = 0;  // no properties
  std::memcpy(d, payload.data(), payload.size());
  ++out_;
  if (!c->dirty) {
    c->dirty = true;
    dirty_.push_back(c);
  }
}

void Sink::Forward(std::string_view topic, std::string_view payload) {
  std::vector<std::string_view> groups_done;
  for (size_t i = 0; i < subs_.size(); ++i) {
    const Subscription& s = subs_[i];
    if (!TopicMatches(s.filter, topic)) continue;
    if (s.group.empty()) {
      AppendQos0(s.conn, topic, payload);
      continue;
    }
    if (std::find(groups_done.begin(), groups_done.end(), s.group) != groups_done.end()) continue;
    groups_done.push_back(s.group);
    std::vector<SinkConn*> members;
    for (size_t j = i; j < subs_.size(); ++j) {
      if (subs_[j].group == s.group && TopicMatches(subs_[j].filter, topic)) {
        members.push_back(subs_[j].conn);
      }
    }
    size_t& next = group_next_[s.group];
    AppendQos0(members[next++ % members.size()], topic, payload);
  }
}

}  // namespace

int RunSink(const Options& options) {
  Sink sink;
  return sink.Run(options);
}

}  // namespace simq::loadgen

// MQTT over a transport that cannot change threads (TLS, WebSocket, WSS): the connection's I/O
// stays on the worker that accepted it, its MQTT logic runs on the session's home worker, and
// the two are joined by a relay (docs/adr/0003-transport-relay.md).
//
//   accepting worker A                             home worker H
//   StreamConnection ── bytes read ─────────────▶ RelayLink ─ FrameReader ─▶ ClientHandler
//   (TLS/WS stream)   ◀──── read credit ──────────   (core::Link)
//                     ◀──── bytes to write ───────
//                     ───── bytes written ───────▶   (backpressure accounting)
//                     ◀──── close / abort ─────────
//                     ───── closed ──────────────▶   (the handler detaches; the link ends)
//
// Each arrow is a call when both ends are on one worker (before CONNECT, or when the client's
// home is the accepting worker) and an asio::post to the other worker's io_context otherwise.
// Posts from one thread to one io_context run in order, so bytes keep their order both ways.
// Backpressure holds end to end: the link counts bytes handed to the stream until the stream
// reports them written (buffered_bytes, the handler's watermarks), and the stream reads only
// while fewer than kRelayWindow bytes wait unconsumed at the link (and not while the handler
// has paused reading), so a slow home worker or a paused CONNECT stops the socket reads.
//
// A relay starts with both ends on A. When the CONNECT names a client whose home is H, the
// handler calls MigrateTo(H): the link on A replays the CONNECT and whatever followed it into a
// new link created on H, and the stream, in the same call, starts posting to H. No byte is in
// flight at that moment, because before it every hand-over was a call.
//
// Lifetimes: each end lives on its own worker and is destroyed there. The stream is kept alive
// by its coroutines, the link by a pending "lifeline" timer on its worker (as a TCP connection
// is kept alive by its pending wait), cancelled once the stream reported the connection closed.
// Ends refer to each other only weakly; a post whose target is gone does nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "boost/asio/steady_timer.hpp"

#include "broker/core/client_handler.h"
#include "broker/core/link.h"
#include "broker/core/worker.h"
#include "broker/net/frame_reader.h"

namespace simq::net {

namespace asio = boost::asio;

class StreamConnection;
class RelayLink;

// The stream's handle on the link's end, touched only on the link's worker: it is filled in
// there, after the stream already posts messages carrying it (they run after the creation).
struct LinkSlot {
  std::weak_ptr<RelayLink> link;
};

// Unread bytes the stream may have handed to the link before it waits for credit.
inline constexpr size_t kRelayWindow = 256 * 1024;

class RelayLink final : public core::Link, public std::enable_shared_from_this<RelayLink> {
 public:
  struct Info {
    std::string listener;
    std::string remote_address;
    protocol::ReasonCode admission = protocol::ReasonCode::kSuccess;
    std::optional<std::string> certificate_username;
  };

  // Creates the link and its handler; call on `worker`'s thread. `stream` lives on `io_worker`.
  static std::shared_ptr<RelayLink> Create(core::Worker& worker, core::Worker& io_worker,
                                           std::weak_ptr<StreamConnection> stream, Info info);
  ~RelayLink() override;

  // --- From the stream (on this link's worker) ---
  // Bytes read; they count against the read window until the handler has taken them.
  void OnBytes(std::string_view data);
  void OnWritten(size_t n);
  void OnStreamClosed();

  // --- core::Link ---
  std::string& output() override { return pending_; }
  void Flush() override;
  size_t buffered_bytes() const override { return pending_.size() + in_transit_; }
  void Close() override;
  void Abort() override;
  bool MigrateTo(uint32_t worker) override;
  void PauseReading() override { reader_.Pause(); }
  void ResumeReading() override;
  const std::string& remote_address() const override { return info_.remote_address; }
  const std::string& listener_name() const override { return info_.listener; }
  std::optional<std::string> certificate_username() const override {
    return info_.certificate_username;
  }
  protocol::ReasonCode admission() const override { return info_.admission; }

  RelayLink(core::Worker& worker, core::Worker& io_worker, std::weak_ptr<StreamConnection> stream,
            Info info);

 private:
  // Runs `f(stream)` on the stream's worker: now if that is this worker, else posted.
  template <typename F>
  void ToStream(F f);
  // Feeds `data` to the handler; `credit` of it is returned to the stream once taken.
  void Take(std::string_view data, size_t credit);
  void SendPending();
  void ReturnCredit(size_t n);
  void Release();

  core::Worker& worker_;
  core::Worker& io_worker_;
  std::weak_ptr<StreamConnection> stream_;
  Info info_;
  std::unique_ptr<core::ClientHandler> handler_;
  FrameReader reader_;
  asio::steady_timer lifeline_;

  std::string pending_;     // encoded packets not yet handed to the stream
  size_t in_transit_ = 0;   // handed to the stream, not yet reported written
  size_t held_credit_ = 0;  // bytes taken while paused: credit returned on resume
  bool flush_posted_ = false;
  bool closing_ = false;  // Close/Abort/migration: the handler is done with us
  bool ended_ = false;    // the stream reported the connection closed
};

}  // namespace simq::net

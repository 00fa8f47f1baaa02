// A client connection over plain TCP: reads frames into its ClientHandler, writes what the
// handler queues, and moves to another worker when the handler asks (core::Link).
//
// Reading waits for readability and then reads into the worker's scratch buffer, so an idle
// connection holds no read buffer; only the tail of an incomplete packet is kept (FrameReader).
// Writing gathers everything queued during one event-loop turn into one write (DESIGN §3).
//
// Owner and thread: its worker's io_context; kept alive by its pending operations
// (shared_from_this, STYLE §18). It owns its ClientHandler.
#pragma once

#include <memory>
#include <string>

#include "boost/asio/ip/tcp.hpp"

#include "broker/core/client_handler.h"
#include "broker/core/link.h"
#include "broker/core/worker.h"
#include "broker/net/frame_reader.h"
#include "broker/net/peer.h"

namespace simq::net {

namespace asio = boost::asio;

class TcpConnection final : public core::Link, public std::enable_shared_from_this<TcpConnection> {
 public:
  // Serves `socket` (bound to `worker`'s io_context) on `worker`'s thread. `initial` holds bytes
  // already read from it (after a migration: the CONNECT and what followed).
  static void Start(core::Worker& worker, asio::ip::tcp::socket socket, Peer peer,
                    std::string initial = {});

  TcpConnection(core::Worker& worker, asio::ip::tcp::socket socket, Peer peer);
  ~TcpConnection() override;

  // core::Link
  std::string& output() override { return pending_; }
  void Flush() override;
  size_t buffered_bytes() const override { return pending_.size() + writing_.size(); }
  void Close() override;
  void Abort() override;
  bool MigrateTo(uint32_t worker) override;
  void PauseReading() override;
  void ResumeReading() override;
  const std::string& remote_address() const override { return peer_.remote_address; }
  const std::string& listener_name() const override { return peer_.listener; }
  protocol::ReasonCode admission() const override { return peer_.admission; }

 private:
  void Begin(std::string initial);
  void WaitReadable();
  void OnReadable(const boost::system::error_code& ec);
  void StartWrite();
  void OnWritten(const boost::system::error_code& ec, size_t n);
  void Finish();
  void ReleasePausedSelf();

  core::Worker& worker_;
  asio::ip::tcp::socket socket_;
  Peer peer_;
  std::unique_ptr<core::ClientHandler> handler_;
  FrameReader reader_;
  // While reading is paused no operation is pending to keep the connection alive: this does.
  std::shared_ptr<TcpConnection> paused_self_;

  std::string pending_;  // queued output
  std::string writing_;  // output on the wire
  bool write_in_flight_ = false;
  bool flush_posted_ = false;
  bool reading_ = true;   // false once closing or migrated
  bool closing_ = false;  // close when the output is written
  bool closed_ = false;
};

// "1.2.3.4:5" or "[::1]:5".
std::string FormatEndpoint(const asio::ip::tcp::endpoint& endpoint);

}  // namespace simq::net

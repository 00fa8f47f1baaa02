// The transport under one client connection, as the MQTT logic (ClientHandler) sees it: an
// output buffer to append encoded packets to, and close / migrate controls. broker/net
// implements it for TCP (and later TLS and WebSocket); tests implement it in memory.
//
// Owner and thread: the connection's worker. The Link owns its ClientHandler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "broker/protocol/reason_code.h"

namespace simq::core {

class Link {
 public:
  virtual ~Link() = default;

  // Appends encoded packets here, then calls Flush().
  virtual std::string& output() = 0;
  // Starts writing what output() holds (no-op if a write is already in flight: it continues).
  virtual void Flush() = 0;
  // Bytes appended but not yet written to the socket.
  virtual size_t buffered_bytes() const = 0;
  // Writes what is queued, then closes. Reading stops at once.
  virtual void Close() = 0;
  // Closes at once, dropping anything queued.
  virtual void Abort() = 0;
  // Hands the connection to worker `worker` (the home worker of its client id): reading stops
  // here, and a new handler there receives the frame being handled (the CONNECT) and every
  // byte after it as if just read. A transport whose state cannot change threads (TLS, WebSocket)
  // keeps its I/O where it is and relays bytes to that handler. False if the connection is gone.
  virtual bool MigrateTo(uint32_t worker) = 0;

  // Stops handing frames to the handler after the current one (the CONNECT waits for a slow
  // password check), and resumes, going on with what arrived meanwhile. While paused nothing is
  // read, so the peer feels TCP backpressure.
  virtual void PauseReading() = 0;
  virtual void ResumeReading() = 0;

  // "ip:port" of the client: the PROXY protocol's source address when the listener uses it.
  virtual const std::string& remote_address() const = 0;
  virtual const std::string& listener_name() const = 0;
  // The user name a verified TLS client certificate carries (listener option
  // identity_as_username); it replaces the CONNECT's user name and authenticates the client.
  virtual std::optional<std::string> certificate_username() const { return std::nullopt; }
  // Set when the listener's limits refuse this client (kQuotaExceeded: too many connections
  // from its address; kConnectionRateExceeded): the CONNECT is answered with it, before
  // authentication (docs/security.md).
  virtual protocol::ReasonCode admission() const { return protocol::ReasonCode::kSuccess; }
};

}  // namespace simq::core

// Splits a connection's byte stream into MQTT frames for its ClientHandler.
//
//   FrameReader reader;
//   switch (reader.Feed(handler, bytes_just_read)) {
//     case FrameReader::kContinue: read more;
//     case FrameReader::kPaused:   stop reading until the handler calls Link::ResumeReading,
//                                  then reader.Resume(handler);
//     case FrameReader::kStopped:  the handler closed or migrated the connection: feed nothing
//     more.
//   }
//
// Frames are handed over as views of the bytes given (no copy); only the tail of an incomplete
// packet is kept between reads, so an idle connection holds no read buffer (DESIGN §3). Limits
// come from the handler (max_inbound_packet_size), checked from the fixed header before
// anything is buffered. Shared by the TCP connection and the relay link of TLS/WebSocket.
//
// Owner and thread: the connection object, on its worker.
#pragma once

#include <string>
#include <string_view>

#include "broker/core/client_handler.h"

namespace simq::net {

class FrameReader {
 public:
  enum Result { kContinue, kPaused, kStopped };

  Result Feed(core::ClientHandler& handler, std::string_view data);
  // After a pause: the frames that arrived meanwhile.
  Result Resume(core::ClientHandler& handler);
  void Pause() { paused_ = true; }
  bool paused() const { return paused_; }

  // During a call into the handler: the frame being handled and every byte after it, which a
  // connection moving to another worker replays there (Link::MigrateTo).
  std::string_view current() const { return current_; }

 private:
  Result Process(core::ClientHandler& handler, std::string_view data, size_t* consumed);

  std::string partial_;
  std::string_view current_;
  bool paused_ = false;
  bool stopped_ = false;
};

}  // namespace simq::net

// The core's only view of other nodes (DESIGN §6). Every cluster mode (kafka, mysql, mongodb,
// static) implements this; a single node uses LocalBackplane, which has no peers.
//
// The core calls it on the worker thread that owns the client or session concerned; calls
// for one session come from one thread, in order. Completion callbacks may run on any thread;
// the core posts them back to its own worker.
#pragma once

#include <functional>
#include <string_view>

#include "absl/status/status.h"

#include "broker/session/message.h"

namespace simq::cluster {

using Done = std::function<void(absl::Status)>;

class Backplane {
 public:
  virtual ~Backplane() = default;

  virtual absl::Status Start() = 0;
  virtual void Stop() = 0;

  // A message accepted on this node, after it was routed to this node's sessions. Returns true
  // if it is already as durable as the mode promises, so the publisher may be acknowledged at
  // once; otherwise `done` is called when it is (or when that failed).
  virtual bool Publish(const session::MessagePtr& message, Done done) = 0;

  // This node gained its first / lost its last subscription on `filter`.
  virtual void RouteAdded(std::string_view filter) = 0;
  virtual void RouteRemoved(std::string_view filter) = 0;

  // Before CONNACK: make this node the owner of `client_id`'s session, taking it over from
  // another node if needed. Returns true if ownership is already settled (single node);
  // otherwise `done` is called.
  virtual bool ClaimSession(std::string_view client_id, Done done) = 0;
};

// The single-node backplane: no peers, everything local is already "cluster-wide".
class LocalBackplane final : public Backplane {
 public:
  absl::Status Start() override { return absl::OkStatus(); }
  void Stop() override {}
  bool Publish(const session::MessagePtr&, Done) override { return true; }
  void RouteAdded(std::string_view) override {}
  void RouteRemoved(std::string_view) override {}
  bool ClaimSession(std::string_view, Done) override { return true; }
};

}  // namespace simq::cluster

// An in-memory Store: the key-value layout in a std::map. For tests (it passes the store
// conformance suite like every backend) and as the reference the others are compared with.
// `set_fail_writes(true)` makes commits fail as a full disk would.
//
// Thread-safe. Commit completes (and calls `done`) before it returns.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "broker/store/kv_layout.h"
#include "broker/store/store_interface.h"

namespace simq::store {

class MemoryStore final : public Store {
 public:
  // What survives a "restart": several MemoryStore objects over one Backing see the same data.
  struct Backing {
    absl::Mutex mu;
    std::map<std::string, std::string> kv ABSL_GUARDED_BY(mu);
    bool fail_writes ABSL_GUARDED_BY(mu) = false;
  };

  MemoryStore() : backing_(std::make_shared<Backing>()) {}
  explicit MemoryStore(std::shared_ptr<Backing> backing) : backing_(std::move(backing)) {}

  absl::StatusOr<LoadedState> Load() override;
  std::unique_ptr<WriteBatch> NewBatch() override { return std::make_unique<KvBatch>(); }
  void Commit(std::unique_ptr<WriteBatch> batch, std::function<void(absl::Status)> done) override;
  void Flush() override {}
  absl::Status Recover() override;
  std::string location() const override { return "memory"; }

  void set_fail_writes(bool fail);
  size_t key_count() const;

 private:
  void Apply(const KvBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(backing_->mu);

  std::shared_ptr<Backing> backing_;
};

}  // namespace simq::store

// The embedded store: RocksDB in the broker's data directory (DESIGN §5). Nothing to install;
// survives kill -9. Writes are group-committed: a writer thread takes every batch submitted
// while the previous write was on disk and writes them as one RocksDB write, so the cost of a
// synchronous commit is shared by everything that arrived meanwhile.
//
//   absl::StatusOr<std::unique_ptr<RocksStore>> store =
//       RocksStore::Open({.path = "/var/lib/simq", .sync = true});
//   if (!store.ok()) → "data directory /var/lib/simq is corrupt: ..." (never wiped)
//
// Durability (`sync`): true fsyncs every group commit (survives power loss); false writes the
// WAL to the operating system without fsync (survives a killed process, not a crashed machine).
//
// Thread-safe. `done` callbacks run on the writer thread.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

#include "broker/store/kv_layout.h"
#include "broker/store/store_interface.h"

namespace rocksdb {
class DB;
class Env;
class Status;
}  // namespace rocksdb

namespace simq::store {

struct RocksStoreOptions {
  std::string path;
  bool sync = true;
  // Tests substitute an Env whose file system can fail (a full disk).
  rocksdb::Env* env = nullptr;
};

class RocksStore final : public Store {
 public:
  // Opens or creates the store. Refuses, naming the directory and the problem: a directory
  // that holds something other than a simq store, a corrupt or unreadable one, one written by
  // a newer simq, one another process has open. Never repairs or wipes anything.
  static absl::StatusOr<std::unique_ptr<RocksStore>> Open(const RocksStoreOptions& options);
  ~RocksStore() override;

  absl::StatusOr<LoadedState> Load() override;
  std::unique_ptr<WriteBatch> NewBatch() override { return std::make_unique<KvBatch>(); }
  void Commit(std::unique_ptr<WriteBatch> batch, std::function<void(absl::Status)> done) override;
  void Flush() override;
  absl::Status Recover() override;
  std::string location() const override { return options_.path; }

  // Write groups so far (for tests and the benchmark notes on batching).
  uint64_t write_groups() const;

 private:
  struct Pending {
    std::unique_ptr<KvBatch> batch;
    std::function<void(absl::Status)> done;
  };

  RocksStore(RocksStoreOptions options, rocksdb::DB* db);
  void WriterLoop();

  const RocksStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t write_groups_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread writer_;
};

// The one place RocksDB statuses become absl::Status (STYLE §14): NoSpace → ResourceExhausted,
// Corruption → DataLoss, other I/O errors → Unavailable, the rest → Internal.
absl::Status FromRocks(const rocksdb::Status& status, std::string_view context);

}  // namespace simq::store

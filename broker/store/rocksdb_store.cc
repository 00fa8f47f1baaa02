#include "broker/store/rocksdb_store.h"

#include <chrono>
#include <filesystem>

#include "absl/synchronization/notification.h"
#include "fmt/format.h"
#include "rocksdb/db.h"
#include "rocksdb/iterator.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/perf_level.h"
#include "rocksdb/write_batch.h"

#include "broker/base/format.h"

namespace simq::store {
namespace {

std::string ToString(const rocksdb::Status& s) {
  return s.ToString();
}

int FormatVersion(std::string_view format) {
  constexpr std::string_view kPrefix = "simq-store-";
  if (!format.starts_with(kPrefix)) return -1;
  int v = 0;
  for (char c : format.substr(kPrefix.size())) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

}  // namespace

absl::Status FromRocks(const rocksdb::Status& s, std::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message = fmt::format("{}: {}", context, ToString(s));
  if (s.IsNoSpace()) return absl::ResourceExhaustedError(message);
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsIOError()) return absl::UnavailableError(message);
  return absl::InternalError(message);
}

absl::StatusOr<std::unique_ptr<RocksStore>> RocksStore::Open(const RocksStoreOptions& options) {
  namespace fs = std::filesystem;
  const std::string& path = options.path;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    if (!fs::is_directory(path, ec)) {
      return absl::FailedPreconditionError(
          fmt::format("data directory {} is not a directory", path));
    }
    const bool empty = fs::is_empty(path, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          fmt::format("cannot read data directory {}: {}", path, ec.message()));
    }
    if (!empty && !fs::exists(fs::path(path) / "CURRENT", ec)) {
      return absl::FailedPreconditionError(fmt::format(
          "data directory {} is not empty and holds no simq store; refusing to use it", path));
    }
  } else {
    fs::create_directories(path, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          fmt::format("cannot create data directory {}: {}", path, ec.message()));
    }
  }

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = 2;
  db_options.write_buffer_size = 32 << 20;
  db_options.keep_log_file_num = 4;
  // The broker writes all the time and reads only once, at start, by scanning everything
  // (Load): a memtable that appends and sorts when it is flushed suits that better than the
  // default skip list, whose ordered inserts cost most of the writer thread's time.
  db_options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  db_options.allow_concurrent_memtable_write = false;  // not supported by the vector memtable
  if (options.env != nullptr) db_options.env = options.env;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, path, &db);
  if (!s.ok()) {
    if (s.IsCorruption()) {
      return absl::DataLossError(fmt::format(
          "data directory {} is corrupt ({}); simq never repairs or wipes it: restore it from a "
          "backup or move it away",
          path, ToString(s)));
    }
    if (ToString(s).find("lock") != std::string::npos) {
      return absl::UnavailableError(
          fmt::format("data directory {} is in use by another process ({})", path, ToString(s)));
    }
    return FromRocks(s, fmt::format("cannot open data directory {}", path));
  }
  std::unique_ptr<RocksStore> store(new RocksStore(options, db));

  std::string format;
  s = db->Get(rocksdb::ReadOptions(), rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
              &format);
  if (s.IsNotFound()) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    if (it->Valid()) {
      return absl::FailedPreconditionError(fmt::format(
          "data directory {} holds a database without a simq format marker; refusing to use it",
          path));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = db->Put(wo, rocksdb::Slice(kFormatKey.data(), kFormatKey.size()),
                rocksdb::Slice(kFormat.data(), kFormat.size()));
    if (!s.ok()) return FromRocks(s, fmt::format("cannot initialise data directory {}", path));
  } else if (!s.ok()) {
    return FromRocks(s, fmt::format("cannot read data directory {}", path));
  } else if (format != kFormat) {
    const int version = FormatVersion(format);
    if (version > FormatVersion(kFormat)) {
      return absl::FailedPreconditionError(fmt::format(
          "data directory {} was written by a newer simq (store format {}; this build reads "
          "format {}); refusing to use it",
          path, version, FormatVersion(kFormat)));
    }
    return absl::FailedPreconditionError(fmt::format(
        "data directory {} has an unknown store format \"{}\"; refusing to use it", path, format));
  }
  return store;
}

RocksStore::RocksStore(RocksStoreOptions options, rocksdb::DB* db)
    : options_(std::move(options)), db_(db) {
  writer_ = std::thread([this] { WriterLoop(); });
}

RocksStore::~RocksStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  writer_.join();
  if (db_) db_->Close();
}

void RocksStore::Commit(std::unique_ptr<WriteBatch> batch, std::function<void(absl::Status)> done) {
  std::unique_ptr<KvBatch> kv(static_cast<KvBatch*>(batch.release()));
  absl::MutexLock lock(&mu_);
  queue_.push_back(Pending{std::move(kv), std::move(done)});
}

void RocksStore::WriterLoop() {
  // RocksDB counts per-operation statistics in thread-local storage by default; nothing reads
  // them, and on this thread they cost a TLS lookup per key.
  rocksdb::SetPerfLevel(rocksdb::PerfLevel::kDisable);
  while (true) {
    std::deque<Pending> group;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](RocksStore* s)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->stopping_ || !s->queue_.empty(); },
          this));
      if (queue_.empty() && stopping_) return;
      group.swap(queue_);
      writing_ = true;
    }
    // Everything submitted while the previous write was on disk goes as one write.
    rocksdb::WriteBatch wb;
    for (const Pending& p : group) {
      for (const KvOp& op : p.batch->ops()) {
        switch (op.kind) {
          case KvOp::Kind::kPut: wb.Put(op.key, op.value); break;
          case KvOp::Kind::kDelete: wb.Delete(op.key); break;
          case KvOp::Kind::kDeleteRange:
            wb.DeleteRange(db_->DefaultColumnFamily(), op.key, op.value);
            break;
        }
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = options_.sync;
    absl::Status status =
        FromRocks(db_->Write(wo, &wb), fmt::format("write to data directory {}", options_.path));
    for (Pending& p : group) {
      if (p.done) p.done(status);
    }
    absl::MutexLock lock(&mu_);
    writing_ = false;
    ++write_groups_;
  }
}

void RocksStore::Flush() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](RocksStore* s)
           ABSL_EXCLUSIVE_LOCKS_REQUIRED(s->mu_) { return s->queue_.empty() && !s->writing_; },
      this));
}

absl::Status RocksStore::Recover() {
  // One attempt: RocksDB may be recovering on its own ("busy"); the caller tries again later.
  return FromRocks(db_->Resume(), fmt::format("resume writing to {}", options_.path));
}

uint64_t RocksStore::write_groups() const {
  absl::MutexLock lock(&mu_);
  return write_groups_;
}

absl::StatusOr<LoadedState> RocksStore::Load() {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  KvBatch repairs;
  // An iterator's slices die when it moves: hand out copies.
  std::string key_copy, value_copy;
  absl::StatusOr<LoadedState> state = BuildLoadedState(
      [&](std::string_view* key, std::string_view* value) {
        if (!it->Valid()) return false;
        key_copy.assign(it->key().data(), it->key().size());
        value_copy.assign(it->value().data(), it->value().size());
        *key = key_copy;
        *value = value_copy;
        it->Next();
        return true;
      },
      &repairs);
  if (!it->status().ok()) {
    return FromRocks(it->status(), fmt::format("read data directory {}", options_.path));
  }
  if (!state.ok()) {
    return absl::DataLossError(
        fmt::format("data directory {} is corrupt: {}; simq never repairs "
                    "or wipes it: restore it from a backup or move it away",
                    options_.path, state.status().message()));
  }
  if (!repairs.empty()) {
    absl::Notification done;
    absl::Status write_status;
    Commit(std::make_unique<KvBatch>(std::move(repairs)), [&](absl::Status s) {
      write_status = s;
      done.Notify();
    });
    done.WaitForNotification();
    if (!write_status.ok()) return write_status;
  }
  return state;
}

}  // namespace simq::store

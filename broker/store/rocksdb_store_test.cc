#include "broker/store/rocksdb_store.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

#include "broker/store/store_conformance.h"

namespace simq::store {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<Store>> OpenRocks(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open({.path = dir, .sync = true});
  if (!s.ok()) return s.status();
  return std::unique_ptr<Store>(std::move(*s));
}

absl::StatusOr<std::unique_ptr<Store>> OpenRocksAsync(const std::string& dir) {
  absl::StatusOr<std::unique_ptr<RocksStore>> s = RocksStore::Open({.path = dir, .sync = false});
  if (!s.ok()) return s.status();
  return std::unique_ptr<Store>(std::move(*s));
}

INSTANTIATE_TEST_SUITE_P(RocksDb, StoreConformanceTest,
                         ::testing::Values(StoreFactory{"rocksdb_sync", OpenRocks},
                                           StoreFactory{"rocksdb_async", OpenRocksAsync}),
                         FactoryName);

std::string Dir(const std::string& name) {
  std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  fs::remove_all(dir);
  return dir;
}

absl::Status CommitAndWait(Store& store, std::unique_ptr<WriteBatch> batch) {
  absl::Notification done;
  absl::Status status;
  store.Commit(std::move(batch), [&](absl::Status s) {
    status = s;
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

TEST(RocksStoreTest, CreatesAMissingDirectory) {
  std::string dir = Dir("new/nested");
  auto store = RocksStore::Open({.path = dir});
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE(fs::exists(dir + "/CURRENT"));
}

TEST(RocksStoreTest, RefusesAFileInsteadOfADirectory) {
  std::string path = Dir("file");
  std::ofstream(path) << "x";
  auto store = RocksStore::Open({.path = path});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), absl::string_view::npos);
  EXPECT_NE(store.status().message().find("not a directory"), absl::string_view::npos);
}

TEST(RocksStoreTest, RefusesAForeignNonEmptyDirectoryAndLeavesItAlone) {
  std::string dir = Dir("foreign");
  fs::create_directories(dir);
  std::ofstream(dir + "/precious.txt") << "user data";
  auto store = RocksStore::Open({.path = dir});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(dir), absl::string_view::npos) << store.status();
  EXPECT_NE(store.status().message().find("holds no simq store"), absl::string_view::npos);
  std::ifstream in(dir + "/precious.txt");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "user data");
}

TEST(RocksStoreTest, RefusesANewerFormat) {
  std::string dir = Dir("newer");
  {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    o.create_if_missing = true;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "F", "simq-store-7").ok());
    delete db;
  }
  auto store = RocksStore::Open({.path = dir});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("newer simq"), absl::string_view::npos) << store.status();
  EXPECT_NE(store.status().message().find(dir), absl::string_view::npos);
}

TEST(RocksStoreTest, RefusesADatabaseThatIsNotOurs) {
  std::string dir = Dir("other-db");
  {
    rocksdb::DB* db = nullptr;
    rocksdb::Options o;
    o.create_if_missing = true;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "user-key", "value").ok());
    delete db;
  }
  auto store = RocksStore::Open({.path = dir});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("without a simq format marker"), absl::string_view::npos)
      << store.status();
}

TEST(RocksStoreTest, RefusesACorruptDirectoryWithoutWipingIt) {
  std::string dir = Dir("corrupt");
  {
    auto store = RocksStore::Open({.path = dir});
    ASSERT_TRUE(store.ok());
  }
  // Damage the manifest the CURRENT file names.
  std::string manifest;
  std::ifstream(dir + "/CURRENT") >> manifest;
  ASSERT_FALSE(manifest.empty());
  {
    std::ofstream out(dir + "/" + manifest, std::ios::binary | std::ios::trunc);
    out << std::string(300, '\x5a');
  }
  auto store = RocksStore::Open({.path = dir});
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(dir), absl::string_view::npos) << store.status();
  EXPECT_NE(store.status().message().find("corrupt"), absl::string_view::npos) << store.status();
  EXPECT_TRUE(fs::exists(dir + "/" + manifest));  // left as it was
}

TEST(RocksStoreTest, RefusesADirectoryAnotherProcessHasOpen) {
  std::string dir = Dir("locked");
  auto first = RocksStore::Open({.path = dir});
  ASSERT_TRUE(first.ok());
  auto second = RocksStore::Open({.path = dir});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use by another process"), absl::string_view::npos)
      << second.status();
}

TEST(RocksStoreTest, GroupCommitSharesWritesBetweenConcurrentBatches) {
  std::string dir = Dir("group");
  auto store = RocksStore::Open({.path = dir, .sync = true});
  ASSERT_TRUE(store.ok());
  std::atomic<int> done{0};
  absl::Notification all;
  constexpr int kBatches = 200;
  for (int i = 0; i < kBatches; ++i) {
    auto batch = (*store)->NewBatch();
    MessageRecord m;
    m.set_topic("t");
    batch->PutMessage(static_cast<uint64_t>(i) + 1, m);
    (*store)->Commit(std::move(batch), [&](absl::Status s) {
      EXPECT_TRUE(s.ok());
      if (++done == kBatches) all.Notify();
    });
  }
  all.WaitForNotification();
  // Batches submitted while a synchronous write was on disk went out together.
  EXPECT_LT((*store)->write_groups(), static_cast<uint64_t>(kBatches));
}

// A file system whose disk is full on demand: appends fail with NoSpace.
class FullDiskFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FullDiskFs(std::shared_ptr<rocksdb::FileSystem> base)
      : FileSystemWrapper(std::move(base)) {}
  const char* Name() const override { return "FullDiskFs"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->NewWritableFile(f, o, r, d);
    if (s.ok()) r->reset(new File(std::move(*r), &full));
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& f, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* r,
                                       rocksdb::IODebugContext* d) override {
    rocksdb::IOStatus s = target()->ReopenWritableFile(f, o, r, d);
    if (s.ok()) r->reset(new File(std::move(*r), &full));
    return s;
  }

  std::atomic<bool> full{false};

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, std::atomic<bool>* full)
        : FSWritableFileOwnerWrapper(std::move(f)), full_(full) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* d) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("simulated full disk");
      return target()->Append(data, o, d);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* d) override {
      if (*full_) return rocksdb::IOStatus::NoSpace("simulated full disk");
      return target()->Append(data, o, v, d);
    }

   private:
    std::atomic<bool>* full_;
  };
};

TEST(RocksStoreTest, AFullDiskFailsCommitsWithResourceExhaustedAndRecovers) {
  auto fs = std::make_shared<FullDiskFs>(rocksdb::FileSystem::Default());
  std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
  std::string dir = Dir("full");
  auto store = RocksStore::Open({.path = dir, .sync = true, .env = env.get()});
  ASSERT_TRUE(store.ok()) << store.status();
  MessageRecord m;
  m.set_topic("t");
  auto ok_batch = (*store)->NewBatch();
  ok_batch->PutMessage(1, m);
  ASSERT_TRUE(CommitAndWait(**store, std::move(ok_batch)).ok());

  fs->full = true;
  auto batch = (*store)->NewBatch();
  batch->PutMessage(2, m);
  absl::Status failed = CommitAndWait(**store, std::move(batch));
  EXPECT_EQ(failed.code(), absl::StatusCode::kResourceExhausted) << failed;
  EXPECT_NE(failed.message().find(dir), absl::string_view::npos);
  // Still full: recovery fails and writes keep failing (nothing is claimed durable).
  auto again = (*store)->NewBatch();
  again->PutMessage(3, m);
  EXPECT_FALSE(CommitAndWait(**store, std::move(again)).ok());

  fs->full = false;
  // RocksDB may be busy recovering by itself; the broker retries on its tick, so do we.
  absl::Status recovered;
  for (int i = 0; i < 500; ++i) {
    recovered = (*store)->Recover();
    if (recovered.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(recovered.ok()) << recovered;
  auto after = (*store)->NewBatch();
  after->PutMessage(4, m);
  EXPECT_TRUE(CommitAndWait(**store, std::move(after)).ok());
}

}  // namespace
}  // namespace simq::store

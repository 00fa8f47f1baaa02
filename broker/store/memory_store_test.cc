#include "broker/store/memory_store.h"

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"

#include "broker/store/store_conformance.h"

namespace simq::store {
namespace {

absl::StatusOr<std::unique_ptr<Store>> OpenMemory(const std::string& dir) {
  static absl::Mutex mu;
  static auto* backings = new std::map<std::string, std::shared_ptr<MemoryStore::Backing>>();
  absl::MutexLock lock(&mu);
  auto& backing = (*backings)[dir];
  if (!backing) backing = std::make_shared<MemoryStore::Backing>();
  return std::unique_ptr<Store>(new MemoryStore(backing));
}

INSTANTIATE_TEST_SUITE_P(Memory, StoreConformanceTest,
                         ::testing::Values(StoreFactory{"memory", OpenMemory}), FactoryName);

TEST(MemoryStoreTest, FailingWritesReportResourceExhaustedUntilRecovered) {
  MemoryStore store;
  store.set_fail_writes(true);
  absl::Status status;
  store.Commit(store.NewBatch(), [&](absl::Status s) { status = s; });
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_FALSE(store.Recover().ok());
  store.set_fail_writes(false);
  EXPECT_TRUE(store.Recover().ok());
  store.Commit(store.NewBatch(), [&](absl::Status s) { status = s; });
  EXPECT_TRUE(status.ok());
}

}  // namespace
}  // namespace simq::store

// The conformance suite every Store backend must pass unchanged (DESIGN §5).
//
//   INSTANTIATE_TEST_SUITE_P(RocksDb, StoreConformanceTest,
//                            ::testing::Values(StoreFactory{"rocksdb", [](const std::string& dir) {
//                              return RocksStore::Open({.path = dir});
//                            }}));
//
// The factory opens a store over `dir`; opening it again over the same `dir` after the first
// one is destroyed must see everything committed (a restart).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/status/statusor.h"

#include "broker/store/store_interface.h"

namespace simq::store {

struct StoreFactory {
  std::string name;
  std::function<absl::StatusOr<std::unique_ptr<Store>>(const std::string& dir)> open;
};

class StoreConformanceTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  // The store over this test's directory.
  Store& store() { return *store_; }
  // Destroys the store and opens a new one over the same directory.
  void Restart();
  // Commits and waits; fails the test on error.
  void CommitAndWait(std::unique_ptr<WriteBatch> batch);
  LoadedState LoadOrDie();

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
};

std::string FactoryName(const ::testing::TestParamInfo<StoreFactory>& info);

}  // namespace simq::store

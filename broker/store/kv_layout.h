// The key-value layout shared by the key-value backends (RocksDB, in-memory): keys sort so a
// session's entries are contiguous, and a batch is a list of puts, deletes and range deletes.
//
//   F                          format marker ("simq-store-1")
//   S<client id>               SessionRecord
//   M<id: 8 bytes BE>          MessageRecord
//   Q<client id>\0<seq: 8 BE>  DeliveryRecord (queued)
//   I<client id>\0<pid: 2 BE>  DeliveryRecord (in flight)
//   P<client id>\0<pid: 2 BE>  empty (inbound QoS 2 awaiting PUBREL)
//   R<topic>                   MessageRecord (retained)
//
// MQTT strings never contain U+0000, so '\0' safely ends a client id.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

#include "broker/store/store_interface.h"

namespace simq::store {

inline constexpr std::string_view kFormatKey = "F";
inline constexpr std::string_view kFormat = "simq-store-1";

struct KvOp {
  enum class Kind : uint8_t { kPut, kDelete, kDeleteRange };
  Kind kind;
  std::string key;    // range begin for kDeleteRange
  std::string value;  // range end (exclusive) for kDeleteRange
};

// A WriteBatch as a list of key-value operations, in order.
class KvBatch final : public WriteBatch {
 public:
  void PutSession(const SessionRecord& session) override;
  void DeleteSession(std::string_view client_id) override;
  void PutMessage(uint64_t id, const MessageRecord& message) override;
  void DeleteMessage(uint64_t id) override;
  void PutQueued(std::string_view client_id, uint64_t sequence,
                 const DeliveryRecord& delivery) override;
  void DeleteQueued(std::string_view client_id, uint64_t sequence) override;
  void PutInflight(std::string_view client_id, uint16_t packet_id,
                   const DeliveryRecord& delivery) override;
  void DeleteInflight(std::string_view client_id, uint16_t packet_id) override;
  void PutInboundQos2(std::string_view client_id, uint16_t packet_id) override;
  void DeleteInboundQos2(std::string_view client_id, uint16_t packet_id) override;
  void PutRetained(const MessageRecord& message) override;
  void DeleteRetained(std::string_view topic) override;
  size_t operation_count() const override { return ops_.size(); }

  const std::vector<KvOp>& ops() const { return ops_; }
  std::vector<KvOp>& mutable_ops() { return ops_; }

 private:
  void Put(std::string key, std::string value);
  void Delete(std::string key);

  std::vector<KvOp> ops_;
};

// Builds the loaded state from every key-value pair in key order, repairing what a crash can
// leave behind (a delivery whose message was never written, a message nothing references).
// Repairs are appended to `repairs`. Errors: a record that does not parse (corruption).
absl::StatusOr<LoadedState> BuildLoadedState(
    const std::function<bool(std::string_view* key, std::string_view* value)>& next,
    KvBatch* repairs);

}  // namespace simq::store

#include "broker/store/kv_layout.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "fmt/format.h"

namespace simq::store {
namespace {

void AppendBe(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t ReadBe(std::string_view s) {
  uint64_t v = 0;
  for (char c : s) v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

std::string SessionKey(std::string_view client_id) {
  return "S" + std::string(client_id);
}

std::string EntryPrefix(char kind, std::string_view client_id) {
  std::string key(1, kind);
  key.append(client_id);
  key.push_back('\0');
  return key;
}

std::string EntryKey(char kind, std::string_view client_id, uint64_t number, int bytes) {
  std::string key = EntryPrefix(kind, client_id);
  AppendBe(&key, number, bytes);
  return key;
}

std::string MessageKey(uint64_t id) {
  std::string key = "M";
  AppendBe(&key, id, 8);
  return key;
}

std::string Serialize(const google::protobuf::MessageLite& m) {
  std::string out;
  m.SerializeToString(&out);
  return out;
}

// "Q<client id>\0<number>": the client id and the number, or false if the key is malformed.
bool SplitEntryKey(std::string_view key, int bytes, std::string_view* client_id, uint64_t* number) {
  if (key.size() < 2 + static_cast<size_t>(bytes)) return false;
  std::string_view rest = key.substr(1);
  const size_t nul = rest.size() - bytes - 1;
  if (rest[nul] != '\0') return false;
  *client_id = rest.substr(0, nul);
  *number = ReadBe(rest.substr(nul + 1));
  return true;
}

absl::Status Corrupt(std::string_view key, std::string_view what) {
  return absl::DataLossError(
      fmt::format("unreadable {} record (key \"{}\")", what, std::string(key.substr(0, 64))));
}

}  // namespace

void KvBatch::Put(std::string key, std::string value) {
  ops_.push_back(KvOp{KvOp::Kind::kPut, std::move(key), std::move(value)});
}

void KvBatch::Delete(std::string key) {
  ops_.push_back(KvOp{KvOp::Kind::kDelete, std::move(key), {}});
}

void KvBatch::PutSession(const SessionRecord& s) {
  Put(SessionKey(s.client_id()), Serialize(s));
}

void KvBatch::DeleteSession(std::string_view client_id) {
  Delete(SessionKey(client_id));
  for (char kind : {'Q', 'I', 'P'}) {
    std::string begin = EntryPrefix(kind, client_id);
    std::string end = begin;
    end.back() = '\1';
    ops_.push_back(KvOp{KvOp::Kind::kDeleteRange, std::move(begin), std::move(end)});
  }
}

void KvBatch::PutMessage(uint64_t id, const MessageRecord& m) {
  Put(MessageKey(id), Serialize(m));
}
void KvBatch::DeleteMessage(uint64_t id) {
  Delete(MessageKey(id));
}

void KvBatch::PutQueued(std::string_view client_id, uint64_t sequence, const DeliveryRecord& d) {
  Put(EntryKey('Q', client_id, sequence, 8), Serialize(d));
}
void KvBatch::DeleteQueued(std::string_view client_id, uint64_t sequence) {
  Delete(EntryKey('Q', client_id, sequence, 8));
}
void KvBatch::PutInflight(std::string_view client_id, uint16_t packet_id, const DeliveryRecord& d) {
  Put(EntryKey('I', client_id, packet_id, 2), Serialize(d));
}
void KvBatch::DeleteInflight(std::string_view client_id, uint16_t packet_id) {
  Delete(EntryKey('I', client_id, packet_id, 2));
}
void KvBatch::PutInboundQos2(std::string_view client_id, uint16_t packet_id) {
  Put(EntryKey('P', client_id, packet_id, 2), std::string());
}
void KvBatch::DeleteInboundQos2(std::string_view client_id, uint16_t packet_id) {
  Delete(EntryKey('P', client_id, packet_id, 2));
}
void KvBatch::PutRetained(const MessageRecord& m) {
  Put("R" + m.topic(), Serialize(m));
}
void KvBatch::DeleteRetained(std::string_view topic) {
  Delete("R" + std::string(topic));
}

absl::StatusOr<LoadedState> BuildLoadedState(
    const std::function<bool(std::string_view* key, std::string_view* value)>& next,
    KvBatch* repairs) {
  LoadedState state;
  absl::flat_hash_map<std::string, size_t> index;  // client id → position in state.sessions
  struct Orphans {
    std::vector<std::pair<uint64_t, DeliveryRecord>> queue;
    std::vector<std::pair<uint16_t, DeliveryRecord>> inflight;
    std::vector<uint16_t> inbound;
  };
  absl::flat_hash_map<std::string, Orphans> entries;
  std::string_view key, value;
  while (next(&key, &value)) {
    if (key.empty()) continue;
    switch (key[0]) {
      case 'F': break;
      case 'S': {
        SessionRecord r;
        if (!r.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return Corrupt(key, "session");
        }
        index[r.client_id()] = state.sessions.size();
        state.sessions.push_back(StoredSession{std::move(r), {}, {}, {}});
        break;
      }
      case 'M': {
        MessageRecord m;
        if (key.size() != 9 || !m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return Corrupt(key, "message");
        }
        uint64_t id = ReadBe(key.substr(1));
        state.max_message_id = std::max(state.max_message_id, id);
        state.messages.emplace(id, std::move(m));
        break;
      }
      case 'Q':
      case 'I': {
        std::string_view client_id;
        uint64_t number = 0;
        DeliveryRecord d;
        if (!SplitEntryKey(key, key[0] == 'Q' ? 8 : 2, &client_id, &number) ||
            !d.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return Corrupt(key, "delivery");
        }
        Orphans& o = entries[std::string(client_id)];
        if (key[0] == 'Q') {
          o.queue.emplace_back(number, std::move(d));
        } else {
          o.inflight.emplace_back(static_cast<uint16_t>(number), std::move(d));
        }
        break;
      }
      case 'P': {
        std::string_view client_id;
        uint64_t number = 0;
        if (!SplitEntryKey(key, 2, &client_id, &number)) return Corrupt(key, "inbound QoS 2");
        entries[std::string(client_id)].inbound.push_back(static_cast<uint16_t>(number));
        break;
      }
      case 'R': {
        MessageRecord m;
        if (!m.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
          return Corrupt(key, "retained");
        }
        state.retained.push_back(std::move(m));
        break;
      }
      default: return Corrupt(key, "unknown");
    }
  }
  // Attach entries to their sessions; entries of a session that is gone, and deliveries whose
  // message is gone, are what a crash between two batches can leave: drop them.
  absl::flat_hash_set<uint64_t> referenced;
  for (auto& [client_id, o] : entries) {
    auto it = index.find(client_id);
    if (it == index.end()) {
      repairs->DeleteSession(client_id);
      state.dropped_dangling_deliveries += o.queue.size() + o.inflight.size();
      continue;
    }
    StoredSession& s = state.sessions[it->second];
    for (auto& [seq, d] : o.queue) {
      if (!state.messages.contains(d.message_id())) {
        repairs->DeleteQueued(client_id, seq);
        ++state.dropped_dangling_deliveries;
        continue;
      }
      referenced.insert(d.message_id());
      s.queue.emplace_back(seq, std::move(d));
    }
    for (auto& [pid, d] : o.inflight) {
      if (!state.messages.contains(d.message_id())) {
        repairs->DeleteInflight(client_id, pid);
        ++state.dropped_dangling_deliveries;
        continue;
      }
      referenced.insert(d.message_id());
      s.inflight.emplace_back(pid, std::move(d));
    }
    std::sort(s.inflight.begin(), s.inflight.end(), [](const auto& a, const auto& b) {
      return a.second.sequence() < b.second.sequence();
    });
    s.inbound_qos2 = std::move(o.inbound);
  }
  for (auto it = state.messages.begin(); it != state.messages.end();) {
    if (referenced.contains(it->first)) {
      ++it;
      continue;
    }
    repairs->DeleteMessage(it->first);
    ++state.dropped_unreferenced_messages;
    state.messages.erase(it++);
  }
  return state;
}

}  // namespace simq::store

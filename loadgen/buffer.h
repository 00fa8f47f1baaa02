// A growable byte buffer with a consumed prefix: the write queue of one load-generator
// connection, and the tail of a partial packet between reads. Unlike std::string, growing it
// does not zero-fill, so encoders write straight into `Append(n)`.
//
//   Buffer out;
//   char* p = out.Append(4);           // 4 writable bytes at the end
//   ...
//   ssize_t n = send(fd, out.data(), out.size(), 0);
//   out.Consume(n);                    // drop what the kernel took
//
// Not thread-safe; owned by one connection on one thread.
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <string_view>

namespace simq::loadgen {

class Buffer {
 public:
  const char* data() const { return storage_.get() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  size_t capacity() const { return capacity_; }
  std::string_view view() const { return {data(), size()}; }

  // `n` uninitialized bytes at the end, to be filled by the caller.
  char* Append(size_t n) {
    if (capacity_ - end_ < n) Grow(n);
    char* p = storage_.get() + end_;
    end_ += n;
    return p;
  }
  void Append(std::string_view bytes) {
    std::memcpy(Append(bytes.size()), bytes.data(), bytes.size());
  }
  // Gives back the last `n` bytes of an Append that wrote less than it reserved.
  void Unappend(size_t n) { end_ -= n; }

  void Consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  void Clear() { begin_ = end_ = 0; }
  // Frees the storage (an idle connection keeps no buffer).
  void Release() {
    storage_.reset();
    capacity_ = begin_ = end_ = 0;
  }

 private:
  void Grow(size_t n) {
    const size_t used = size();
    if (begin_ > 0 && capacity_ - used >= n && used <= capacity_ / 2) {
      std::memmove(storage_.get(), data(), used);  // slide down instead of growing
    } else {
      size_t cap = capacity_ ? capacity_ : 256;
      while (cap - used < n) cap *= 2;
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (used) std::memcpy(bigger.get(), data(), used);
      storage_ = std::move(bigger);
      capacity_ = cap;
    }
    begin_ = 0;
    end_ = used;
  }

  std::unique_ptr<char[]> storage_;
  size_t capacity_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace simq::loadgen

#include <asp/detail/post_inbox.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <thread>

namespace asp::detail {

namespace {

// Waits a moment for another thread's step that is a few instructions long (a block being
// linked, a claimed slot being written): spins first, then lets the other thread run.
struct backoff {
  unsigned m_round = 0;
  void pause() noexcept {
    if (m_round < 64) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
    } else {
      std::this_thread::yield();
    }
    ++m_round;
  }
};

}  // namespace

void post_inbox::throw_closed() {
  throw std::logic_error("asp: work posted to a loop that has been destroyed");
}

post_inbox::post_inbox() : m_tail_block(new block), m_head(m_tail_block.load()) {}

post_inbox::~post_inbox() {
  close();
  delete m_head;
  delete m_spare.load(std::memory_order_acquire);
}

std::unique_ptr<post_inbox::block> post_inbox::spare_block() {
  if (block* b = m_spare.exchange(nullptr, std::memory_order_acquire)) {
    b->next.store(nullptr, std::memory_order_relaxed);
    return std::unique_ptr<block>(b);
  }
  return std::make_unique<block>();
}

post_inbox::claim post_inbox::reserve(std::size_t wanted) {
  std::unique_ptr<block> fresh;  // the next block, made before claiming a block's last slot
  backoff wait;
  std::uint64_t tail = m_tail.load(std::memory_order_acquire);
  for (;;) {
    if ((tail & closed_bit) != 0) {
      throw_closed();
    }
    const std::size_t offset = tail % lap;
    if (offset == block_slots) {
      // The producer that claimed the last slot is linking the next block.
      wait.pause();
      tail = m_tail.load(std::memory_order_acquire);
      continue;
    }
    block* current = m_tail_block.load(std::memory_order_acquire);
    const std::size_t count = std::min(wanted, block_slots - offset);
    const bool last = offset + count == block_slots;
    if (last && !fresh) fresh = spare_block();
    if (m_tail.compare_exchange_weak(tail, tail + count, std::memory_order_seq_cst,
                                     std::memory_order_acquire)) {
      if (last) {
        // Linked before this producer's slots are written: the reader, which reaches the end
        // of the block only after reading them, always finds the next block.
        block* next = fresh.release();
        current->next.store(next, std::memory_order_release);
        m_tail_block.store(next, std::memory_order_release);
        m_tail.fetch_add(1, std::memory_order_release);  // past the marker: the next lap
      }
      return {current, offset, count};
    }
  }
}

void post_inbox::next_block() noexcept {
  block* next = m_head->next.load(std::memory_order_acquire);
  // Every slot of the block has been read (and its written flag cleared): it is the spare.
  delete m_spare.exchange(m_head, std::memory_order_acq_rel);
  m_head = next;
  m_head_slot = 0;
  ++m_head_index;  // the marker position
}

void post_inbox::close() noexcept {
  const std::uint64_t end = m_tail.fetch_or(closed_bit, std::memory_order_seq_cst) & ~closed_bit;
  // Every slot before `end` is claimed; its producer finishes writing it in a moment.
  backoff wait;
  while (m_head_index < end) {
    if (m_head_slot == block_slots) {
      next_block();
      continue;
    }
    slot& s = m_head->slots[m_head_slot];
    if (!s.written.load(std::memory_order_acquire)) {
      wait.pause();
      continue;
    }
    s.fn = {};
    ++m_head_slot;
    ++m_head_index;
  }
}

}  // namespace asp::detail

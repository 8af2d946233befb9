// The emulator's launch: runs a kernel's grid one block at a time on the calling OS thread,
// in an order of blocks drawn from the launch's seed, each thread of the block a user-level
// fiber (ucontext) with its own stack.
//
// A fiber runs until it reaches a synchronisation point (__syncthreads, a warp shuffle,
// __syncwarp) or returns; then it switches back to the scheduler, which resumes the runnable
// fibers in a fresh order drawn from the seed. Once no fiber can run, the scheduler releases
// whatever is complete: a warp whose live lanes all wait at the same warp sync (the shuffle's
// values are exchanged then), else, when every thread of the block waits at the same
// __syncthreads, the whole block. Anything else is a fault: a barrier that some threads
// skip or leave by returning, lanes at different shuffles, a deadlock. race_detector.h
// checks every memory access in between.
#pragma once

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <source_location>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "race_detector.h"

struct dim3 {
    unsigned int x, y, z;
};

// CUDA's built-in variables. threadIdx is set by the scheduler each time it resumes a fiber.
inline dim3 threadIdx, blockIdx, blockDim, gridDim;
constexpr int warpSize = 32;

namespace emulator {

// Launch dimensions and dynamic shared memory, as emulator.py passes them (ctypes mirror there).
struct LaunchConfig {
    unsigned int grid[3];
    unsigned int block[3];
    std::uint64_t shared_mem;
    std::uint64_t seed;            // draws the order of blocks and of threads
    const ArrayRegion* arrays;     // the global arrays, for the race and bounds checks
    std::uint32_t array_count;
};

// SplitMix64 (Steele, Lea & Flood 2014): the scheduler's source of orders.
struct Random {
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    template <class T>
    void shuffle(std::vector<T>& items) {
        for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[next() % i]);
    }
};

// Where a thread waits: the synchronisation call and its place in the kernel's source.
struct Site {
    const char* what;
    const char* file;
    unsigned line;
    bool operator==(const Site& other) const {
        return line == other.line && std::strcmp(what, other.what) == 0 && std::strcmp(file, other.file) == 0;
    }
    std::string describe() const { return std::string(what) + " at " + file + ":" + std::to_string(line); }
};

enum class Waiting { nothing, block_barrier, warp_sync, exited };

struct Fiber {
    ucontext_t context;
    dim3 index;
    Waiting waiting;
    Site site;                          // where it waits
    unsigned int source_lane;           // at a warp sync: the lane whose offered value this lane receives
    std::uint64_t offered, received;    // a shuffle's value, as raw bytes
    void* fake_stack;                   // AddressSanitizer's record of this fiber's stack frames
};

struct Block {
    std::vector<Fiber> fibers;
    char* stacks;
    std::size_t stack_size;
    ucontext_t scheduler;
    void* scheduler_fake_stack;
    const void* scheduler_stack_bottom;
    std::size_t scheduler_stack_size;
    Fiber* running;
    void (*body)(void*);  // calls the kernel with its arguments, from body_context
    void* body_context;
    void* dynamic_shared;
    std::uint32_t linear_index;
    std::uint32_t epoch;                     // __syncthreads passed so far
    std::vector<std::uint32_t> warp_epochs;  // warp synchronisations passed so far, per warp
    Random random;
    std::string error;
    Fault fault;
};

inline Block* current = nullptr;

// ---- AddressSanitizer's fiber annotations (no-ops without it): each switch of stacks is
// announced before and confirmed after, so ASan checks each fiber against its own stack.
inline void start_switch(void** fake_stack_save, const void* bottom, std::size_t size) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#else
    (void)fake_stack_save, (void)bottom, (void)size;
#endif
}

inline void finish_switch(void* fake_stack, const void** bottom_old, std::size_t* size_old) {
#if defined(__SANITIZE_ADDRESS__)
    __sanitizer_finish_switch_fiber(fake_stack, bottom_old, size_old);
#else
    (void)fake_stack, (void)bottom_old, (void)size_old;
#endif
}

// ---- switching

// From the running fiber back to the scheduler. An exiting fiber is never resumed.
EMULATOR_RUNTIME inline void yield_to_scheduler(bool exiting) {
    Block& block = *current;
    Fiber& fiber = *block.running;
    start_switch(exiting ? nullptr : &fiber.fake_stack, block.scheduler_stack_bottom, block.scheduler_stack_size);
    swapcontext(&fiber.context, &block.scheduler);
    finish_switch(fiber.fake_stack, nullptr, nullptr);
}

EMULATOR_RUNTIME inline void fiber_main() {
    Block& block = *current;
    finish_switch(nullptr, &block.scheduler_stack_bottom, &block.scheduler_stack_size);
    block.body(block.body_context);
    block.running->waiting = Waiting::exited;
    yield_to_scheduler(true);
}

inline char* stack_of(Block& block, std::size_t fiber) {
    return block.stacks + fiber * (block.stack_size + getpagesize()) + getpagesize();
}

EMULATOR_RUNTIME inline void resume(Block& block, std::size_t fiber) {
    block.running = &block.fibers[fiber];
    threadIdx = block.fibers[fiber].index;
    const auto stack = reinterpret_cast<std::uintptr_t>(stack_of(block, fiber));
    detector.now = {true, block.linear_index, static_cast<std::uint32_t>(fiber), block.epoch,
                    block.warp_epochs[fiber / warpSize], stack, stack + block.stack_size};
    start_switch(&block.scheduler_fake_stack, stack_of(block, fiber), block.stack_size);
    swapcontext(&block.scheduler, &block.fibers[fiber].context);
    detector.now.in_kernel = false;
    finish_switch(block.scheduler_fake_stack, nullptr, nullptr);
}

// Called from a fiber on a fault (a race, an access out of bounds, a partial-warp shuffle,
// ...): records the first message and leaves the block for good.
[[noreturn]] EMULATOR_RUNTIME void fail(const std::string& message, Fault fault) {
    detector.now.in_kernel = false;  // the message was built with checks off (race_detector.h)
    if (current->error.empty()) current->error = message, current->fault = fault;
    current->running->waiting = Waiting::exited;
    yield_to_scheduler(true);
    __builtin_unreachable();  // an exited fiber is never resumed
}

EMULATOR_RUNTIME inline unsigned int linear_thread_index(const dim3& t) {
    return t.x + blockDim.x * (t.y + blockDim.y * t.z);
}

inline std::string describe_index(std::uint32_t linear, const dim3& dims) {
    return "(" + std::to_string(linear % dims.x) + ", " + std::to_string(linear / dims.x % dims.y) + ", " +
           std::to_string(linear / (dims.x * dims.y)) + ")";
}

std::string describe_thread(std::uint32_t linear) { return describe_index(linear, blockDim); }
std::string describe_block(std::uint32_t linear) { return describe_index(linear, gridDim); }

inline bool is_builtin_variable(std::uintptr_t address) {
    for (const dim3* v : {&threadIdx, &blockIdx, &blockDim, &gridDim}) {
        const auto begin = reinterpret_cast<std::uintptr_t>(v);
        if (address >= begin && address < begin + sizeof(dim3)) return true;
    }
    return false;
}

// ---- synchronisation points, called from fibers

EMULATOR_RUNTIME inline void block_barrier(const std::source_location& where) {
    current->running->site = {"__syncthreads", where.file_name(), static_cast<unsigned>(where.line())};
    current->running->waiting = Waiting::block_barrier;
    yield_to_scheduler(false);
}

EMULATOR_RUNTIME inline unsigned int lane_index() {
    return linear_thread_index(threadIdx) % warpSize;
}

// Offer `offered` to the warp, wait until every live lane of the warp is here, and receive
// the value that lane `source_lane` offered.
EMULATOR_RUNTIME inline std::uint64_t warp_exchange(const char* what, const std::source_location& where,
                                                    unsigned int mask, std::uint64_t offered, unsigned int source_lane) {
    const unsigned int threads = blockDim.x * blockDim.y * blockDim.z;
    const unsigned int warp_start = linear_thread_index(threadIdx) / warpSize * warpSize;
    if (mask != 0xffffffffu || warp_start + warpSize > threads)
        detector.now.in_kernel = false, fail(std::string(what) + ": the emulator supports full-warp synchronisation only (mask 0xffffffff and "
             "a block of whole warps), got mask " + std::to_string(mask) + " with " + std::to_string(threads) +
             " threads per block", Fault::shuffle);
    Fiber& fiber = *current->running;
    fiber.site = {what, where.file_name(), static_cast<unsigned>(where.line())};
    fiber.offered = offered;
    fiber.source_lane = source_lane;
    fiber.waiting = Waiting::warp_sync;
    yield_to_scheduler(false);
    return fiber.received;
}

// ---- the scheduler

inline void scheduler_fault(Block& block, const std::string& message, Fault fault) {
    if (block.error.empty()) block.error = message, block.fault = fault;
}

// Releases every warp whose live lanes all wait at the same warp sync, exchanging their
// values. Returns whether any warp was released.
inline bool release_warps(Block& block) {
    bool released = false;
    const std::size_t threads = block.fibers.size();
    for (std::size_t start = 0; start < threads; start += warpSize) {
        const std::size_t end = std::min(threads, start + warpSize);
        bool waiting = false, complete = true;
        for (std::size_t f = start; f < end; ++f) {
            const Waiting w = block.fibers[f].waiting;
            if (w == Waiting::warp_sync) waiting = true;
            else if (w != Waiting::exited) complete = false;
        }
        if (!waiting || !complete) continue;
        const std::string warp = " of warp " + std::to_string(start / warpSize);
        const Fiber* first = nullptr;
        for (std::size_t f = start; f < end; ++f) {
            Fiber& fiber = block.fibers[f];
            if (fiber.waiting == Waiting::exited) continue;
            if (!first) first = &fiber;
            if (!(fiber.site == first->site)) {
                scheduler_fault(block, "lanes" + warp + " wait at different warp synchronisations: lane " +
                                std::to_string(first - &block.fibers[start]) + " at " + first->site.describe() +
                                ", lane " + std::to_string(f - start) + " at " + fiber.site.describe(), Fault::shuffle);
                return false;
            }
            const std::size_t source = start + fiber.source_lane;
            if (source >= end || block.fibers[source].waiting == Waiting::exited) {
                scheduler_fault(block, fiber.site.describe() + ": lane " + std::to_string(f - start) + warp +
                                " reads lane " + std::to_string(fiber.source_lane) + ", which has exited", Fault::shuffle);
                return false;
            }
            fiber.received = block.fibers[source].offered;
        }
        for (std::size_t f = start; f < end; ++f)
            if (block.fibers[f].waiting == Waiting::warp_sync) block.fibers[f].waiting = Waiting::nothing;
        ++block.warp_epochs[start / warpSize];
        released = true;
    }
    return released;
}

inline std::string describe_deadlock(const Block& block) {
    std::size_t at_barrier = 0, at_warp_sync = 0, exited = 0;
    for (const Fiber& fiber : block.fibers) {
        at_barrier += fiber.waiting == Waiting::block_barrier;
        at_warp_sync += fiber.waiting == Waiting::warp_sync;
        exited += fiber.waiting == Waiting::exited;
    }
    return "deadlock: " + std::to_string(at_barrier) + " threads wait at __syncthreads, " +
           std::to_string(at_warp_sync) + " at a warp shuffle or __syncwarp whose warp never completes, " +
           std::to_string(exited) + " have exited (a barrier or shuffle inside a branch that not all threads take?)";
}

// Whether every thread waits at one __syncthreads; a fault (recorded in the block) if some
// wait at another one or have returned: on a GPU that hangs or is undefined.
inline bool barrier_complete(Block& block) {
    const Fiber* waiting = nullptr;
    std::size_t exited = 0;
    for (const Fiber& fiber : block.fibers) {
        if (fiber.waiting == Waiting::exited) ++exited;
        else if (fiber.waiting != Waiting::block_barrier) return false;
        else if (!waiting) waiting = &fiber;
        else if (!(fiber.site == waiting->site)) {
            scheduler_fault(block, "threads wait at different barriers: thread " +
                            describe_thread(waiting - block.fibers.data()) + " at " + waiting->site.describe() +
                            ", thread " + describe_thread(&fiber - block.fibers.data()) + " at " + fiber.site.describe(),
                            Fault::barrier);
            return false;
        }
    }
    if (waiting && exited)
        scheduler_fault(block, waiting->site.describe() + " is not reached by every thread of the block: " +
                        std::to_string(exited) + " of " + std::to_string(block.fibers.size()) +
                        " threads returned before it (a barrier after a return that not all threads take?)",
                        Fault::barrier);
    return waiting && !exited;
}

// A fresh context per fiber (kept apart from run_block: getcontext returns twice, like setjmp).
__attribute__((noinline)) inline void prepare_fibers(Block& block) {
    for (std::size_t f = 0; f < block.fibers.size(); ++f) {
        Fiber& fiber = block.fibers[f];
        fiber.index = {static_cast<unsigned>(f % blockDim.x), static_cast<unsigned>(f / blockDim.x % blockDim.y),
                       static_cast<unsigned>(f / (blockDim.x * blockDim.y))};
        fiber.waiting = Waiting::nothing;
        fiber.fake_stack = nullptr;
        getcontext(&fiber.context);
        fiber.context.uc_stack.ss_sp = stack_of(block, f);
        fiber.context.uc_stack.ss_size = block.stack_size;
        fiber.context.uc_link = nullptr;
        makecontext(&fiber.context, fiber_main, 0);
    }
}

inline void run_block(Block& block) {
    prepare_fibers(block);
    std::vector<std::size_t> order(block.fibers.size());
    for (std::size_t f = 0; f < order.size(); ++f) order[f] = f;
    block.epoch = 0;
    block.warp_epochs.assign((block.fibers.size() + warpSize - 1) / warpSize, 0);
    for (;;) {
        block.random.shuffle(order);
        for (std::size_t f : order) {
            if (block.fibers[f].waiting != Waiting::nothing) continue;
            resume(block, f);
            if (!block.error.empty()) return;
        }
        if (release_warps(block)) continue;
        if (!block.error.empty()) return;
        bool all_exited = true;
        for (const Fiber& fiber : block.fibers) all_exited = all_exited && fiber.waiting == Waiting::exited;
        if (all_exited) return;
        if (!barrier_complete(block)) {
            scheduler_fault(block, describe_deadlock(block), Fault::barrier);
            return;
        }
        ++block.epoch;
        for (Fiber& fiber : block.fibers) fiber.waiting = Waiting::nothing;
    }
}

// One mapping for all the block's stacks, each above a guard page that faults on overflow.
struct Stacks {
    char* memory;
    std::size_t bytes;
    Stacks(std::size_t count, std::size_t stack_size) : bytes(count * (stack_size + getpagesize())) {
        void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) throw std::runtime_error("cannot map " + std::to_string(bytes) + " bytes of fiber stacks");
        memory = static_cast<char*>(m);
        for (std::size_t f = 0; f < count; ++f) mprotect(memory + f * (stack_size + getpagesize()), getpagesize(), PROT_NONE);
    }
    ~Stacks() { munmap(memory, bytes); }
};

// Kernels here use little stack; AddressSanitizer's redzones need more.
#if defined(__SANITIZE_ADDRESS__)
constexpr std::size_t fiber_stack_size = 256 * 1024;
#else
constexpr std::size_t fiber_stack_size = 64 * 1024;
#endif

constexpr std::uint64_t max_dynamic_shared_memory = 48 * 1024;  // a GPU's default limit per block

inline std::string check_config(const LaunchConfig& config) {
    const unsigned* g = config.grid;
    const unsigned* b = config.block;
    const unsigned long long threads = 1ull * b[0] * b[1] * b[2];
    if (!g[0] || !g[1] || !g[2] || !b[0] || !b[1] || !b[2]) return "grid and block dimensions must be positive";
    if (threads > 1024 || b[2] > 64) return "a block holds at most 1024 threads, and blockDim.z at most 64";
    if (g[1] > 65535 || g[2] > 65535) return "gridDim.y and gridDim.z are at most 65535";
    if (config.shared_mem > max_dynamic_shared_memory)
        return "dynamic shared memory is at most 49152 bytes, got " + std::to_string(config.shared_mem);
    return {};
}

inline thread_local std::string last_error;

// Calls the kernel with the arguments that args[i] point at, as in cuLaunchKernel.
template <class... Parameters>
struct Call {
    void (*kernel)(Parameters...);
    void** args;
    EMULATOR_RUNTIME static void run(void* context) {
        static_cast<const Call*>(context)->unpack(std::index_sequence_for<Parameters...>{});
    }
    template <std::size_t... I>
    EMULATOR_RUNTIME void unpack(std::index_sequence<I...>) const {
        kernel(*static_cast<std::remove_cv_t<Parameters>*>(args[I])...);
    }
};

// Runs kernel(args...) over the grid; args[i] points at the i-th argument's value, as in
// cuLaunchKernel. Returns null, or a message (starting with its fault's tag) if the launch
// failed. Launches of one library are serialised: `__shared__` variables are statics, one
// copy for the whole process.
template <class... Parameters>
const char* launch(void (*kernel)(Parameters...), const LaunchConfig& config, void** args) {
    static std::mutex one_launch_at_a_time;
    std::lock_guard<std::mutex> lock(one_launch_at_a_time);
    last_error = check_config(config);
    if (!last_error.empty()) return last_error.c_str();
    try {
        gridDim = {config.grid[0], config.grid[1], config.grid[2]};
        blockDim = {config.block[0], config.block[1], config.block[2]};
        Block block{};
        block.fibers.resize(std::size_t(blockDim.x) * blockDim.y * blockDim.z);
        Stacks stacks(block.fibers.size(), fiber_stack_size);
        block.stacks = stacks.memory;
        block.stack_size = fiber_stack_size;
        Call<Parameters...> call{kernel, args};
        block.body = Call<Parameters...>::run;
        block.body_context = &call;
        block.random = {config.seed};
        std::vector<std::uint32_t> blocks(std::size_t(gridDim.x) * gridDim.y * gridDim.z);
        for (std::size_t b = 0; b < blocks.size(); ++b) blocks[b] = static_cast<std::uint32_t>(b);
        block.random.shuffle(blocks);
        begin_launch(config.arrays, config.array_count);
        current = &block;
        for (std::uint32_t b : blocks) {
            blockIdx = {b % gridDim.x, b / gridDim.x % gridDim.y, b / (gridDim.x * gridDim.y)};
            block.linear_index = b;
            // Exactly the bytes asked for (so AddressSanitizer sees any access past them),
            // filled with 0xff bytes (NaN as floats) so that reading unwritten shared memory shows.
            block.dynamic_shared = std::malloc(config.shared_mem);
            std::memset(block.dynamic_shared, 0xff, config.shared_mem);
            begin_block(block.dynamic_shared, config.shared_mem);
            run_block(block);
            std::free(block.dynamic_shared);
            if (!block.error.empty()) {
                last_error = fault_tag(block.fault) + ("block " + describe_block(b) + ": ") + block.error;
                break;
            }
        }
        current = nullptr;
    } catch (const std::exception& e) {
        current = nullptr;
        last_error = e.what();
    }
    return last_error.empty() ? nullptr : last_error.c_str();
}

// {number of parameters, sizeof each parameter}: emulator.py checks these against the types
// it parsed from the kernel's signature.
template <class... Parameters>
const std::uint32_t* parameter_sizes(void (*)(Parameters...)) {
    static const std::uint32_t sizes[] = {sizeof...(Parameters), static_cast<std::uint32_t>(sizeof(Parameters))...};
    return sizes;
}

template <class T>
EMULATOR_RUNTIME T* dynamic_shared_memory() {
    return static_cast<T*>(current->dynamic_shared);
}

}  // namespace emulator

// The exported entry points of one kernel (a template's instance, `name<float>`, gets the
// symbol `name__float`), appended by emulator.py after the kernel's source.
#define EMULATOR_ENTRY(symbol, kernel)                                                                     \
    extern "C" __attribute__((visibility("default"))) const char* emulate_##symbol(                         \
        const emulator::LaunchConfig* config, void** args) {                                                \
        return emulator::launch(kernel, *config, args);                                                     \
    }                                                                                                       \
    extern "C" __attribute__((visibility("default"))) const std::uint32_t* parameter_sizes_##symbol() {     \
        return emulator::parameter_sizes(kernel);                                                           \
    }

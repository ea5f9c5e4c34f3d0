// SPDX-License-Identifier: Apache-2.0
#include "sipfast/io/reuseport_steering.hpp"

#include <cerrno>
#include <cstring>

#if SIPFAST_EBPF_STEERING
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "steer_bpf_object.inc"  // steer_bpf_object: src/io/bpf/steer.bpf.c, compiled by clang -target bpf
#endif

namespace sipfast::io {

#if SIPFAST_EBPF_STEERING

namespace {

// steer.bpf.c's layout of its maps.
constexpr unsigned max_workers = 256;
constexpr unsigned max_groups = 4;

struct steer_config {
    std::uint64_t seed;
    std::uint32_t workers;
    std::uint32_t groups;
};

} // namespace

struct reuseport_steering::state {
    bpf_object* object = nullptr;
    int counts_fd = -1;
    ~state() {
        if (object != nullptr) bpf_object__close(object);
    }
};

namespace {

std::string fault(const char* what, int err) {
    return std::string(what) + ": " + std::strerror(err < 0 ? -err : err);
}

// libbpf explains its refusals at length on stderr; the daemon says it in one line instead.
int quiet(libbpf_print_level, const char*, va_list) { return 0; }

} // namespace

std::unique_ptr<reuseport_steering> reuseport_steering::attach(const std::vector<std::vector<int>>& groups,
                                                               std::uint64_t seed, std::string& error) {
    if (groups.empty() || groups.size() > max_groups || groups.front().empty() || groups.front().size() > max_workers) {
        error = "between 1 and " + std::to_string(max_groups) + " UDP listen addresses and " + std::to_string(max_workers) +
                " workers are steered";
        return nullptr;
    }
    const std::size_t workers = groups.front().size();
    (void)libbpf_set_print(quiet);
    auto s = std::make_unique<state>();
    bpf_object_open_opts opts{};  // LIBBPF_OPTS, without its statement expression
    opts.sz = sizeof opts;
    opts.object_name = "sipfast_steer";
    s->object = bpf_object__open_mem(steer_bpf_object, sizeof steer_bpf_object, &opts);
    if (s->object == nullptr) {
        error = fault("opening the BPF object", errno);
        return nullptr;
    }
    if (const int e = bpf_object__load(s->object); e != 0) {
        error = fault("loading the BPF program", e);
        return nullptr;
    }
    bpf_program* prog = bpf_object__find_program_by_name(s->object, "sipfast_steer");
    bpf_map* sockets = bpf_object__find_map_by_name(s->object, "sf_sockets");
    bpf_map* config = bpf_object__find_map_by_name(s->object, "sf_config");
    bpf_map* counts = bpf_object__find_map_by_name(s->object, "sf_counts");
    if (prog == nullptr || sockets == nullptr || config == nullptr || counts == nullptr) {
        error = "the BPF object lacks its program or maps";
        return nullptr;
    }
    s->counts_fd = bpf_map__fd(counts);
    for (std::size_t g = 0; g < groups.size(); ++g) {
        if (groups[g].size() != workers) {
            error = "every UDP listen address needs one socket per worker";
            return nullptr;
        }
        for (std::size_t w = 0; w < workers; ++w) {
            const auto key = static_cast<std::uint32_t>(g * max_workers + w);
            const auto fd = static_cast<std::uint64_t>(groups[g][w]);
            if (const int e = bpf_map_update_elem(bpf_map__fd(sockets), &key, &fd, BPF_ANY); e != 0) {
                error = fault("adding a socket to the reuseport array", errno != 0 ? errno : e);
                return nullptr;
            }
        }
    }
    const std::uint32_t zero = 0;
    const steer_config c{seed, static_cast<std::uint32_t>(workers), static_cast<std::uint32_t>(groups.size())};
    if (bpf_map_update_elem(bpf_map__fd(config), &zero, &c, BPF_ANY) != 0) {
        error = fault("writing the steering configuration", errno);
        return nullptr;
    }
    // Attached through one socket, the program serves its whole reuseport group.
    const int prog_fd = bpf_program__fd(prog);
    for (const std::vector<int>& group : groups)
        if (::setsockopt(group.front(), SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, &prog_fd, sizeof prog_fd) != 0) {
            error = fault("SO_ATTACH_REUSEPORT_EBPF", errno);
            for (const std::vector<int>& g : groups) {
                int none = 0;  // what was attached is taken off again: all groups steer, or none
                (void)::setsockopt(g.front(), SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, &none, sizeof none);
            }
            return nullptr;
        }
    return std::unique_ptr<reuseport_steering>(new reuseport_steering(std::move(s)));
}

reuseport_steering::counts reuseport_steering::read() const noexcept {
    counts total;
    const int cpus = libbpf_num_possible_cpus();
    if (cpus <= 0 || cpus > 4096) return total;
    std::uint64_t per_cpu[4096];
    std::uint64_t* fields[] = {&total.steered, &total.passed, &total.refused};
    for (std::uint32_t k = 0; k < 3; ++k) {
        if (bpf_map_lookup_elem(state_->counts_fd, &k, per_cpu) != 0) continue;
        for (int c = 0; c < cpus; ++c) *fields[k] += per_cpu[c];
    }
    return total;
}

#else

struct reuseport_steering::state {};

std::unique_ptr<reuseport_steering> reuseport_steering::attach(const std::vector<std::vector<int>>&, std::uint64_t,
                                                               std::string& error) {
    error = "this sipfastd was built without eBPF steering (it needs clang and libbpf-dev)";
    return nullptr;
}

reuseport_steering::counts reuseport_steering::read() const noexcept { return {}; }

#endif

reuseport_steering::reuseport_steering(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
reuseport_steering::~reuseport_steering() = default;

} // namespace sipfast::io

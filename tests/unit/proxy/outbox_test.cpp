// SPDX-License-Identifier: Apache-2.0
// The outbox with and without a backend's rooms: a message a room holds is written in it and handed
// over with it (sipfast-dpdk's mbufs: no copy to the wire); a larger one, or one when no room is
// free, goes to the arena; a room reserved and not committed serves the next message and is given
// back if never used. And the pipeline's forwarded request lands in a room whole.
#include "sipfast/proxy/outbox.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "sipfast/proxy/pipeline.hpp"
#include "proxy_test_util.hpp"
#include "test_util.hpp"

namespace sipfast::proxy {
namespace {

using test::addr;

/// A backend's rooms: `free` buffers of 256 bytes, counted out and back.
struct rooms {
    static constexpr std::size_t room_bytes = 256;
    std::vector<std::unique_ptr<std::array<char, room_bytes>>> all;
    std::size_t free = 4;
    std::size_t taken = 0, released = 0;

    static std::span<char> take(void* self, void*& frame) noexcept {
        auto* r = static_cast<rooms*>(self);
        if (r->free == 0) return {};
        --r->free;
        ++r->taken;
        r->all.push_back(std::make_unique<std::array<char, room_bytes>>());
        frame = r->all.back().get();
        return {r->all.back()->data(), room_bytes};
    }
    static void give_back(void* self, void*) noexcept { ++static_cast<rooms*>(self)->released; }
    void attach(outbox& out) { out.set_room(&rooms::take, &rooms::give_back, this, room_bytes); }
};

void write(outbox& out, std::string_view text, std::size_t reserve) {
    const std::span<char> room = out.reserve(reserve);
    ASSERT_GE(room.size(), text.size());
    std::memcpy(room.data(), text.data(), text.size());
    out.commit(addr("198.18.0.20:5060"), sip::transport::udp, text.size());
}

TEST(Outbox, WithoutRoomsEverythingGoesToTheArena) {
    outbox out{1024, 8};
    write(out, "OPTIONS", 100);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].frame, nullptr);
    EXPECT_EQ(std::string(out.bytes(out[0]).data(), out.bytes(out[0]).size()), "OPTIONS");
}

TEST(Outbox, AMessageARoomHoldsIsWrittenInItAndHandedOverWithIt) {
    outbox out{1024, 8};
    rooms r;
    r.attach(out);
    write(out, "INVITE", 200);
    write(out, std::string(300, 'x'), 300);  // more than a room: the arena
    ASSERT_EQ(out.size(), 2u);
    ASSERT_NE(out[0].frame, nullptr);
    using room_buffer = std::array<char, rooms::room_bytes>;
    EXPECT_EQ(out[0].data, static_cast<room_buffer*>(out[0].frame)->data());  // in place
    EXPECT_EQ(std::string(out.bytes(out[0]).data(), out.bytes(out[0]).size()), "INVITE");
    EXPECT_EQ(out[1].frame, nullptr);
    EXPECT_EQ(out.bytes(out[1]).size(), 300u);
    EXPECT_EQ(r.taken, 1u);
}

TEST(Outbox, ARoomNotCommittedServesTheNextAndIsGivenBackAtTheEnd) {
    rooms r;
    {
        outbox out{1024, 8};
        r.attach(out);
        (void)out.reserve(100);  // a message that did not fit its writer: never committed
        write(out, "BYE", 100);
        EXPECT_EQ(r.taken, 1u);  // the same room
        ASSERT_EQ(out.size(), 1u);
        EXPECT_NE(out[0].frame, nullptr);
        (void)out.reserve(50);   // left pending at the end
        EXPECT_EQ(r.taken, 2u);
    }
    EXPECT_EQ(r.released, 1u);  // the pending one; the committed one was the backend's
}

TEST(Outbox, WhenNoRoomIsFreeTheArenaServes) {
    outbox out{1024, 8};
    rooms r;
    r.free = 1;
    r.attach(out);
    write(out, "ACK", 100);
    write(out, "CANCEL", 100);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_NE(out[0].frame, nullptr);
    EXPECT_EQ(out[1].frame, nullptr);
    EXPECT_EQ(std::string(out.bytes(out[1]).data(), out.bytes(out[1]).size()), "CANCEL");
}

TEST(Outbox, ThePipelinesForwardedRequestIsWrittenInARoom) {
    proxy_config config = test::test_config(proxy_mode::stateless);
    pipeline p(config, 0);
    outbox out{1 << 16, 64};
    std::vector<std::unique_ptr<std::array<char, 2048>>> big;  // rooms large enough for an INVITE
    struct big_rooms {
        static std::span<char> take(void* self, void*& frame) noexcept {
            auto* b = static_cast<std::vector<std::unique_ptr<std::array<char, 2048>>>*>(self);
            b->push_back(std::make_unique<std::array<char, 2048>>());
            frame = b->back().get();
            return {b->back()->data(), 2048};
        }
        static void give_back(void*, void*) noexcept {}
    };
    out.set_room(&big_rooms::take, &big_rooms::give_back, &big, 2048);
    const std::string invite = test::crlf(
        "INVITE sip:bob@example.com SIP/2.0\nVia: SIP/2.0/UDP 198.18.0.9:5070;branch=z9hG4bKroom;rport\n"
        "Max-Forwards: 70\nFrom: <sip:alice@example.com>;tag=a1\nTo: <sip:bob@example.com>\nCall-ID: room-1\n"
        "CSeq: 1 INVITE\nContact: <sip:alice@198.18.0.9:5070>\nContent-Length: 0\n\n");
    p.on_packet(inbound{invite, addr("198.18.0.9:5070"), &config.listen[0]}, 0, out);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_NE(out[0].frame, nullptr);
    const std::string sent(out.bytes(out[0]).data(), out.bytes(out[0]).size());
    EXPECT_EQ(sent.rfind("INVITE sip:bob@", 0), 0u) << sent;
    EXPECT_NE(sent.find("Max-Forwards: 69"), std::string::npos) << sent;
    EXPECT_TRUE(test::parsed(sent).result.ok());
}

} // namespace
} // namespace sipfast::proxy

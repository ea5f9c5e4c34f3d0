// SPDX-License-Identifier: Apache-2.0
// reginfo documents (RFC 3680 §5) as sipfast writes them, parsed back with a real XML parser
// (expat, namespace-aware): the namespace, version and state of <reginfo>, one <registration> per
// identity of the set, each contact's id, state, event and expires, and URIs that need escaping
// coming back as written. And the changes a partial document reports, case by case, on an explicit
// clock.
#include <gtest/gtest.h>

#include <expat.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sipfast/registrar/reginfo.hpp"

namespace sipfast::registrar {
namespace {

constexpr std::uint64_t s = 1'000'000'000;

/// An element as the parser gave it: namespace-qualified name ("ns name"), attributes, text, children.
struct element {
    std::string name;
    std::map<std::string, std::string> attrs;
    std::string text;
    std::vector<std::unique_ptr<element>> children;

    [[nodiscard]] std::vector<const element*> all(const std::string& local) const {
        std::vector<const element*> out;
        for (const auto& c : children)
            if (c->name == std::string(ns) + " " + local) out.push_back(c.get());
        return out;
    }
    static constexpr const char* ns = "urn:ietf:params:xml:ns:reginfo";
};

struct parsed {
    std::unique_ptr<element> root;
    bool ok = false;
};

parsed parse_xml(std::string_view doc) {
    struct state {
        std::unique_ptr<element> root;
        std::vector<element*> stack;
    } doc_state;
    XML_Parser p = XML_ParserCreateNS(nullptr, ' ');
    XML_SetUserData(p, &doc_state);
    XML_SetElementHandler(
        p,
        [](void* u, const XML_Char* name, const XML_Char** attrs) {
            auto* st = static_cast<state*>(u);
            auto e = std::make_unique<element>();
            e->name = name;
            for (int i = 0; attrs[i] != nullptr; i += 2) e->attrs[attrs[i]] = attrs[i + 1];
            element* raw = e.get();
            if (st->stack.empty()) st->root = std::move(e);
            else st->stack.back()->children.push_back(std::move(e));
            st->stack.push_back(raw);
        },
        [](void* u, const XML_Char*) { static_cast<state*>(u)->stack.pop_back(); });
    XML_SetCharacterDataHandler(p, [](void* u, const XML_Char* t, int n) {
        auto* st = static_cast<state*>(u);
        if (!st->stack.empty()) st->stack.back()->text.append(t, static_cast<std::size_t>(n));
    });
    const bool ok = XML_Parse(p, doc.data(), static_cast<int>(doc.size()), 1) == XML_STATUS_OK;
    XML_ParserFree(p);
    return {std::move(doc_state.root), ok};
}

binding make(std::string contact, std::uint64_t expires_ns, std::uint32_t cseq = 1) {
    binding b;
    b.contact = std::move(contact);
    b.expires_ns = expires_ns;
    b.call_id = "reg-1";
    b.cseq = cseq;
    return b;
}

binding_list list(std::vector<binding> v) { return std::make_shared<const std::vector<binding>>(std::move(v)); }

std::string write(const reginfo_doc& d) {
    std::vector<char> room(16384);
    core::text_writer w(room);
    EXPECT_TRUE(write_reginfo(w, d));
    return std::string(w.view());
}

TEST(reginfo, AFullDocumentParsesBackWithEveryAttribute) {
    const std::uint64_t now = 1000 * s;
    const binding_list l = list({make("sip:alice@198.51.100.7:5060", now + 600 * s), make("sip:alice@198.51.100.8", now - s)});
    std::vector<contact_report> reports;
    full_state(l, now, reports);
    ASSERT_EQ(reports.size(), 1u);  // the lapsed one is not reported
    const std::string doc = write({7, true, "sip:alice@example.com", {}, registration_state::active, reports, now});
    const parsed p = parse_xml(doc);
    ASSERT_TRUE(p.ok) << doc;
    EXPECT_EQ(p.root->name, std::string(element::ns) + " reginfo");
    EXPECT_EQ(p.root->attrs.at("version"), "7");
    EXPECT_EQ(p.root->attrs.at("state"), "full");
    const auto regs = p.root->all("registration");
    ASSERT_EQ(regs.size(), 1u);
    EXPECT_EQ(regs[0]->attrs.at("aor"), "sip:alice@example.com");
    EXPECT_EQ(regs[0]->attrs.at("state"), "active");
    EXPECT_EQ(regs[0]->attrs.at("id").size(), 16u);
    const auto contacts = regs[0]->all("contact");
    ASSERT_EQ(contacts.size(), 1u);
    EXPECT_EQ(contacts[0]->attrs.at("state"), "active");
    EXPECT_EQ(contacts[0]->attrs.at("event"), "registered");
    EXPECT_EQ(contacts[0]->attrs.at("expires"), "600");
    EXPECT_EQ(contacts[0]->attrs.at("callid"), "reg-1");
    const auto uri = contacts[0]->all("uri");
    ASSERT_EQ(uri.size(), 1u);
    EXPECT_EQ(uri[0]->text, "sip:alice@198.51.100.7:5060");
}

TEST(reginfo, TextThatNeedsEscapingComesBackAsWritten) {
    const std::uint64_t now = 1000 * s;
    const std::string odd = "sip:a&b@198.51.100.7;x=\"<'>\"";
    const binding_list l = list({make(odd, now + 60 * s)});
    std::vector<contact_report> reports;
    full_state(l, now, reports);
    const std::string aor = "sip:o'neil&co@example.com";
    const parsed p = parse_xml(write({0, true, aor, {}, registration_state::active, reports, now}));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.root->all("registration")[0]->attrs.at("aor"), aor);
    EXPECT_EQ(p.root->all("registration")[0]->all("contact")[0]->all("uri")[0]->text, odd);
}

TEST(reginfo, EachIdentityOfTheSetIsARegistrationWithTheSameContacts) {
    const std::uint64_t now = 1000 * s;
    const binding_list l = list({make("sip:u@198.51.100.7", now + 60 * s)});
    std::vector<contact_report> reports;
    full_state(l, now, reports);
    const std::vector<std::string> ids{"sip:001010000000001@ims.example.com", "sip:1012@ims.example.com", "tel:1012"};
    const parsed p = parse_xml(write({1, true, ids[0], ids, registration_state::active, reports, now}));
    ASSERT_TRUE(p.ok);
    const auto regs = p.root->all("registration");
    ASSERT_EQ(regs.size(), 3u);  // the watched one once, then the others
    for (std::size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(regs[i]->attrs.at("aor"), ids[i]);
        ASSERT_EQ(regs[i]->all("contact").size(), 1u);
    }
    EXPECT_NE(regs[0]->attrs.at("id"), regs[1]->attrs.at("id"));
}

TEST(reginfo, NoBindingIsAnInitRegistrationWithoutContacts) {
    const parsed p = parse_xml(write({0, true, "sip:bob@example.com", {}, registration_state::init, {}, 0}));
    ASSERT_TRUE(p.ok);
    EXPECT_EQ(p.root->all("registration")[0]->attrs.at("state"), "init");
    EXPECT_TRUE(p.root->all("registration")[0]->all("contact").empty());
}

TEST(reginfo, ContactIdsAreStableAndTellBindingsApart) {
    binding a = make("sip:a@198.51.100.7", 0);
    binding b = make("sip:b@198.51.100.7", 0);
    EXPECT_EQ(contact_id(a), contact_id(make("sip:a@198.51.100.7", 5)));
    EXPECT_NE(contact_id(a), contact_id(b));
    a.instance = b.instance = "\"<urn:uuid:00000000-0000-1000-8000-000000000001>\"";
    a.reg_id = 1;
    b.reg_id = 2;
    EXPECT_NE(contact_id(a), contact_id(b));  // two flows of one instance (RFC 5626)
    b.reg_id = 1;
    b.contact = "sip:elsewhere@198.51.100.9";
    EXPECT_EQ(contact_id(a), contact_id(b));  // the same flow, moved
}

struct change_case {
    const char* note;
    std::vector<binding> before;
    std::vector<binding> after;
    std::uint64_t now_ns;
    std::vector<std::pair<std::string, std::string>> expected;  // contact -> event (state from the event)
};

TEST(reginfo, ChangesReportWhatHappenedToEachBinding) {
    const std::uint64_t t0 = 1000 * s;
    const std::vector<change_case> cases = {
        {"nothing changed", {make("sip:a@h", t0 + 60 * s)}, {make("sip:a@h", t0 + 60 * s)}, t0 + s, {}},
        {"a second contact", {make("sip:a@h", t0 + 60 * s)}, {make("sip:a@h", t0 + 60 * s), make("sip:b@h", t0 + 90 * s)},
         t0 + s, {{"sip:b@h", "registered"}}},
        {"refreshed later", {make("sip:a@h", t0 + 60 * s, 1)}, {make("sip:a@h", t0 + 100 * s, 2)}, t0 + s, {{"sip:a@h", "refreshed"}}},
        {"refreshed, same expiry", {make("sip:a@h", t0 + 60 * s, 1)}, {make("sip:a@h", t0 + 60 * s, 2)}, t0 + s,
         {{"sip:a@h", "refreshed"}}},
        {"shortened", {make("sip:a@h", t0 + 600 * s, 1)}, {make("sip:a@h", t0 + 100 * s, 2)}, t0 + s, {{"sip:a@h", "shortened"}}},
        {"removed early", {make("sip:a@h", t0 + 60 * s), make("sip:b@h", t0 + 60 * s)}, {make("sip:b@h", t0 + 60 * s)}, t0 + s,
         {{"sip:a@h", "unregistered"}}},
        {"lapsed, still listed", {make("sip:a@h", t0 + 60 * s)}, {make("sip:a@h", t0 + 60 * s)}, t0 + 60 * s,
         {{"sip:a@h", "expired"}}},
        {"lapsed and swept", {make("sip:a@h", t0 + 60 * s)}, {}, t0 + 61 * s, {{"sip:a@h", "expired"}}},
        {"lapsed before the last report: told already", {make("sip:a@h", t0 - s)}, {}, t0 + s, {}},
    };
    for (const change_case& c : cases) {
        const binding_list before = list(c.before), after = c.after.empty() ? nullptr : list(c.after);
        std::vector<contact_report> out;
        changes(before, t0, after, c.now_ns, out);
        ASSERT_EQ(out.size(), c.expected.size()) << c.note;
        for (std::size_t i = 0; i < out.size(); ++i) {
            EXPECT_EQ(out[i].b->contact, c.expected[i].first) << c.note;
            EXPECT_EQ(event_name(out[i].event), c.expected[i].second) << c.note;
            const bool gone = c.expected[i].second == "expired" || c.expected[i].second == "unregistered";
            EXPECT_EQ(out[i].active, !gone) << c.note;
        }
        // And the partial document saying so parses, terminated contacts with expires 0.
        const parsed p = parse_xml(write({3, false, "sip:u@example.com", {}, registration_state::active, out, c.now_ns}));
        ASSERT_TRUE(p.ok) << c.note;
        EXPECT_EQ(p.root->attrs.at("state"), "partial");
        for (const element* e : p.root->all("registration")[0]->all("contact"))
            if (e->attrs.at("state") == "terminated") {
                EXPECT_EQ(e->attrs.at("expires"), "0") << c.note;
            }
    }
}

TEST(reginfo, ADocumentThatDoesNotFitSaysSo) {
    const binding_list l = list({make("sip:a@198.51.100.7", 100 * s)});
    std::vector<contact_report> reports;
    full_state(l, 0, reports);
    std::array<char, 64> small{};
    core::text_writer w(small);
    EXPECT_FALSE(write_reginfo(w, {0, true, "sip:a@example.com", {}, registration_state::active, reports, 0}));
}

} // namespace
} // namespace sipfast::registrar

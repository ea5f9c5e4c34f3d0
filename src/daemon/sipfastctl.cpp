// SPDX-License-Identifier: Apache-2.0
// sipfastctl: talks to a running sipfastd over its control socket (DESIGN §8): stats, routes,
// reload, shutdown, version. The socket path comes from --socket, else from the daemon's config
// (--config, else the embedded default).
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_parse.hpp"

#include "daemon_config.hpp"
#include "sipfast/ops/ops_server.hpp"

#ifndef SIPFAST_VERSION
#define SIPFAST_VERSION "unknown"
#endif

int main(int argc, char** argv) {
    using namespace sipfast;
    CLI::App app{"sipfastctl: control a running sipfastd"};
    app.name("sipfastctl");
    std::string socket, config_file;
    bool json = false;
    app.add_option("--socket", socket, "the daemon's control socket (default: control_socket of its config)");
    app.add_option("--config", config_file, "the daemon's configuration file, to find its control socket");
    app.require_subcommand(1);
    CLI::App* stats = app.add_subcommand("stats", "counters with rates since the last call, latency quantiles");
    stats->add_flag("--json", json, "as JSON");
    app.add_subcommand("routes", "the domains, static routes and locations in force");
    app.add_subcommand("reload", "re-read the configuration (as SIGHUP); prints what was loaded or why not");
    app.add_subcommand("shutdown", "drain and stop (as SIGTERM)");
    app.add_subcommand("version", "the daemon's version");
    app.set_version_flag("--version", std::string("sipfastctl ") + SIPFAST_VERSION);
    if (const auto status = tools::parse_command_line(app, argc, argv, "sipfastctl")) return *status;

    if (socket.empty()) {
        std::string text(daemon::embedded_default_config()), source = "<embedded default>";
        if (!config_file.empty()) {
            std::ifstream in(config_file, std::ios::binary);
            if (!in) {
                std::cerr << "sipfastctl: " << config_file << ": cannot open\n";
                return 2;
            }
            text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
            source = config_file;
        }
        daemon::daemon_config cfg;
        if (const daemon::config_error e = daemon::load_config(text, source, cfg)) {
            std::cerr << "sipfastctl: " << e.to_string() << '\n';
            return 2;
        }
        socket = cfg.control_socket;
        if (socket.empty()) {
            std::cerr << "sipfastctl: " << source << " turns the control socket off (control_socket = \"\")\n";
            return 2;
        }
    }
    const std::string command = app.get_subcommands().front()->get_name() + (json ? " --json" : "");
    try {
        const std::string answer = ops::send_command(socket, command);
        std::cout << answer;
        return answer.rfind("error:", 0) == 0 ? 1 : 0;
    } catch (const std::exception& e) {
        std::cerr << "sipfastctl: " << e.what() << '\n';
        return 1;
    }
}

#pragma once

/// Everything ASP offers, in one include.

#include <asp/async_generator.hpp>
#include <asp/backend.hpp>
#include <asp/channel.hpp>
#include <asp/clock.hpp>
#include <asp/error.hpp>
#include <asp/event.hpp>
#include <asp/generator.hpp>
#include <asp/hook.hpp>
#include <asp/loop.hpp>
#include <asp/run.hpp>
#include <asp/sleep.hpp>
#include <asp/spawn.hpp>
#include <asp/stream.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>
#include <asp/timer.hpp>

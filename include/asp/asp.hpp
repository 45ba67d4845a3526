#pragma once

/// Everything ASP offers, in one include.

#include <asp/clock.hpp>
#include <asp/error.hpp>
#include <asp/loop.hpp>
#include <asp/run.hpp>
#include <asp/sleep.hpp>
#include <asp/task.hpp>
#include <asp/time.hpp>
#include <asp/timer.hpp>

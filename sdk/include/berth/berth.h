/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef BERTH_BERTH_H
#define BERTH_BERTH_H
/* Everything a driver author needs, in one include. */
#include <berth/error.h>
#include <berth/plugin.h>
#include <berth/storage.h>
#include <berth/network.h>
#include <berth/volume.h>
#include <berth/logging.h>
#include <berth/auth.h>
#endif

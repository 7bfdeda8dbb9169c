/* SPDX-License-Identifier: MIT */
/*
 * Compatibility include, installed as include/nvkv.h: the library's header
 * now lives at include/nvkv/nvkv.h beside the cmdset headers
 * (include/nvkv/cmdset/...).  New code should write #include <nvkv/nvkv.h>.
 */
#include <nvkv/nvkv.h>

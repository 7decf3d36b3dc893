/* SPDX-License-Identifier: MIT */
/* predict.h - `sysext-stub predict` and `sysext-stub cpio`: what the TPM will hold, before any boot. */
#ifndef HOST_TOOLS_PREDICT_H
#define HOST_TOOLS_PREDICT_H

int cmd_predict(int argc, char **argv);
int cmd_cpio(int argc, char **argv);

#endif

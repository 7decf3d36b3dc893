/* SPDX-License-Identifier: MIT */
/*
 * predict.h - `sysext-stub predict`: what the TPM will hold, before any
 * boot; and the same prediction as an API, for commands that build on it
 * (`sysext-stub sign`). The inputs are options (predict-options.h).
 */
#ifndef HOST_TOOLS_PREDICT_H
#define HOST_TOOLS_PREDICT_H

#include <stddef.h>

#include "predict-options.h"
#include "prediction.h"

int cmd_predict(int argc, char **argv);

/*
 * Compute the prediction for @o (defaults filled in: banks, PCRs, systemd
 * version). @ret gets the events; prediction_value() gives the PCR values.
 * Banks the inputs cannot give (a manifest without that digest) are left
 * out of ret->banks with a warning. Returns 0, or -1 with the error
 * printed (and @ret empty).
 */
int predict_compute(struct predict_options *o, struct prediction *ret);

#endif

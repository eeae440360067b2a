// The owner of engine-internal snapshots (checkpoints, volume moves): no account's id (those are
// 12 digits) and not '' (engine-internal volumes' owner in embedded use), so no account sees or
// counts them, and they are told apart from every other snapshot.
export const INTERNAL_OWNER = "strata-internal";

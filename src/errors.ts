// One catalogue of every error Strata raises (fastify-style): a test keeps it complete, and the
// API layer maps `code` straight onto the EC2 error response. Codes are the ones EC2 documents
// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html) wherever EC2 has one.
export const errorCatalogue = {
  InvalidAction: { status: 400, summary: "The action or operation requested is not valid." },
  InvalidParameterValue: {
    status: 400,
    summary: "A parameter has a value that is out of range or malformed.",
  },
  MissingParameter: { status: 400, summary: "A required parameter is missing." },
  MissingAction: { status: 400, summary: "The request does not name an action (no Action parameter)." },
  UnknownParameter: { status: 400, summary: "A parameter is not recognized for the action." },
  UnsupportedOperation: { status: 400, summary: "An EC2 action that Strata does not implement." },
  "InvalidVolume.NotFound": { status: 400, summary: "The volume does not exist." },
  "InvalidSnapshot.NotFound": { status: 400, summary: "The snapshot does not exist." },
  "InvalidSnapshot.InUse": { status: 400, summary: "The snapshot is in use and cannot be deleted." },
  VolumeInUse: { status: 400, summary: "The volume is in use (for example by a pending snapshot)." },
  IncorrectState: { status: 400, summary: "The resource is not in a state that allows the operation." },
  SnapshotCreationPerVolumeRateExceeded: {
    status: 400,
    summary: "A snapshot of this volume is already in progress.",
  },
  InvalidRegion: { status: 400, summary: "The region is not configured on this Strata server." },
  "InvalidAMIName.Duplicate": { status: 400, summary: "The account already has an image with this name." },
  "InvalidAMIName.Malformed": { status: 400, summary: "The AMI name is not 3-128 allowed characters." },
  "InvalidAMIID.NotFound": {
    status: 400,
    summary: "The image does not exist or is not visible to the account.",
  },
  InvalidBlockDeviceMapping: { status: 400, summary: "A block device mapping is invalid." },
  IdempotentParameterMismatch: {
    status: 400,
    summary: "The client token was already used with different parameters.",
  },
  AuthFailure: { status: 401, summary: "The request could not be authenticated or is not authorized." },
  DryRunOperation: { status: 412, summary: "The request would have succeeded, but the DryRun flag is set." },
  UnauthorizedOperation: { status: 403, summary: "The account is not authorized to perform this operation." },
  InvalidParameterCombination: {
    status: 400,
    summary: "Parameters were given that cannot be used together.",
  },
  TagLimitExceeded: { status: 400, summary: "A resource would have more than 50 tags." },
  InvalidID: { status: 400, summary: "A resource id is malformed or of a type the action does not take." },
  "InvalidAMIID.Malformed": { status: 400, summary: "The image id is malformed." },
  "InvalidVolumeID.Malformed": { status: 400, summary: "The volume id is malformed." },
  "InvalidSnapshotID.Malformed": { status: 400, summary: "The snapshot id is malformed." },
  InvalidAMIAttributeItemValue: {
    status: 400,
    summary: "An image attribute value (such as a user id) is invalid.",
  },
  "InvalidInstanceID.NotFound": { status: 400, summary: "The instance does not exist." },
  "InvalidInstanceID.Malformed": { status: 400, summary: "The instance id is malformed." },
  IncorrectInstanceState: {
    status: 400,
    summary: "The instance is not in a state that allows the operation.",
  },
  InvalidInstanceType: { status: 400, summary: "The instance type is not one Strata offers." },
  // A server-side condition on EC2 too; 503 (not 500) because it is temporary, not a fault.
  InsufficientInstanceCapacity: {
    status: 503,
    summary: "The host does not have the memory or vCPUs for the requested instances.",
  },
  "InvalidKeyPair.NotFound": { status: 400, summary: "The key pair does not exist." },
  "InvalidKeyPair.Duplicate": { status: 400, summary: "The account already has a key pair with this name." },
  "InvalidKey.Format": { status: 400, summary: "The public key material is not a valid RSA or ed25519 key." },
  "InvalidUserData.Malformed": { status: 400, summary: "The user data is not valid base64." },
  "InvalidAttachment.NotFound": { status: 400, summary: "The volume is not attached to the instance." },
  IncorrectModificationState: {
    status: 400,
    summary: "The volume cannot be modified now (its instance must be stopped to resize it).",
  },
  "InvalidVolume.ZoneMismatch": {
    status: 400,
    summary: "The volume and the instance are in different zones.",
  },
  InvalidDevice: { status: 400, summary: "The device name is invalid or already in use on the instance." },
  "InvalidAMIID.Unavailable": { status: 400, summary: "The image is not available (pending or failed)." },
  // The EBS direct APIs' errors (rest-json; each carries a Reason).
  ValidationException: { status: 400, summary: "EBS: the input fails to satisfy the API's constraints." },
  ResourceNotFoundException: { status: 404, summary: "EBS: the snapshot does not exist." },
  AccessDeniedException: { status: 403, summary: "EBS: the account may not use the snapshot." },
  ConflictException: { status: 409, summary: "EBS: a ClientToken was reused with different parameters." },
  RequestThrottledException: { status: 400, summary: "EBS: too many requests for the snapshot or account." },
  // EC2's code for storage it has no capacity for; 503 because space can come back (deletes).
  InsufficientVolumeCapacity: { status: 503, summary: "The block store's disk is full (no space left)." },
  ChunkCorrupt: { status: 500, summary: "A stored chunk failed its SHA-256 check." },
  ChunkMissing: { status: 500, summary: "A chunk referenced by metadata is absent from the block store." },
  InternalError: { status: 500, summary: "An internal error occurred." },
  // EC2's common code for a temporary failure; here: the object store is unreachable or refuses us.
  ServiceUnavailable: {
    status: 503,
    summary: "A service Strata depends on (the object store) is unavailable.",
  },
  IncompleteSignature: { status: 400, summary: "The request signature does not conform to AWS SigV4." },
  SignatureDoesNotMatch: {
    status: 403,
    summary: "The request signature does not match the one computed from the secret access key.",
  },
  RequestExpired: {
    status: 400,
    summary: "The request date is too far from the server time, or the presigned URL has expired.",
  },
  // STS's and IAM's codes (src/server/query-service.ts), where EC2 says AuthFailure.
  MissingAuthenticationToken: { status: 403, summary: "An STS or IAM request is not signed." },
  InvalidClientTokenId: {
    status: 403,
    summary: "An STS or IAM request is signed with an unknown access key.",
  },
  // IAM's code for a parameter out of its bounds (ListAccountAliases MaxItems).
  ValidationError: { status: 400, summary: "IAM: a parameter fails to satisfy the API's constraints." },
  // The front door (src/server/front-door.ts): refused before any handler, nothing done.
  InvalidHostHeader: {
    status: 400,
    summary: "The Host header is not one of the server's names (DNS rebinding is refused).",
  },
  CrossOriginRequestDenied: {
    status: 403,
    summary: "The request comes from another web origin than the server's own.",
  },
  AccountAlreadyExists: { status: 400, summary: "An account with that name or owner alias already exists." },
  // Per-account quotas (src/services/quotas): EC2's codes, all 400 on EC2.
  VcpuLimitExceeded: {
    status: 400,
    summary: "The account's running instances would exceed its vCPU quota in the region.",
  },
  VolumeLimitExceeded: {
    status: 400,
    summary: "The account's volumes of a type would exceed its storage quota (TiB) in the region.",
  },
  MaxIOPSLimitExceeded: {
    status: 400,
    summary: "The account's io1/io2 volumes would exceed its provisioned IOPS quota in the region.",
  },
  SnapshotLimitExceeded: {
    status: 400,
    summary: "The account would exceed its snapshot quota in the region.",
  },
  ResourceLimitExceeded: {
    status: 400,
    summary: "The account would exceed its AMI (or public AMI) quota in the region.",
  },
  KeyPairLimitExceeded: {
    status: 400,
    summary: "The account would exceed its key pair quota in the region.",
  },
  ServiceQuotaExceededException: {
    status: 402,
    summary:
      "EBS: StartSnapshot would exceed the account's snapshot quota (Reason DEPENDENCY_SERVICE_QUOTA_EXCEEDED).",
  },
  // Security groups (src/services/network/security-group-service.ts): EC2's codes.
  "InvalidGroup.NotFound": { status: 400, summary: "The security group does not exist for the account." },
  "InvalidGroup.Duplicate": { status: 400, summary: "The VPC already has a security group with this name." },
  "InvalidGroup.Reserved": {
    status: 400,
    summary: "The name 'default' is reserved for the VPC's default group.",
  },
  "InvalidGroupId.Malformed": { status: 400, summary: "The security group id is malformed." },
  "InvalidPermission.Duplicate": { status: 400, summary: "The security group already has this rule." },
  "InvalidPermission.NotFound": { status: 400, summary: "The security group has no such rule." },
  "InvalidPermission.Malformed": {
    status: 400,
    summary: "A security group rule names no source or destination.",
  },
  "InvalidSecurityGroupRuleId.NotFound": { status: 400, summary: "The security group rule does not exist." },
  "InvalidSecurityGroupRuleId.Malformed": {
    status: 400,
    summary: "The security group rule id is malformed.",
  },
  CannotDelete: { status: 400, summary: "A VPC's default security group cannot be deleted." },
  InvalidParameter: {
    status: 400,
    summary: "A parameter does not fit the request (e.g. a group of another VPC).",
  },
  SecurityGroupLimitExceeded: {
    status: 400,
    summary: "The account would exceed its security groups per region (2500).",
  },
  RulesPerSecurityGroupLimitExceeded: {
    status: 400,
    summary: "The group would exceed its inbound or outbound rules (60 each).",
  },
  // The network model (VPCs, subnets, gateways, route tables, interfaces, Elastic IPs): EC2's codes.
  "InvalidVpcID.NotFound": { status: 400, summary: "The VPC does not exist." },
  "InvalidVpcID.Malformed": { status: 400, summary: "The VPC id is malformed." },
  "InvalidSubnetID.NotFound": { status: 400, summary: "The subnet does not exist." },
  "InvalidSubnetID.Malformed": { status: 400, summary: "The subnet id is malformed." },
  "InvalidInternetGatewayID.NotFound": { status: 400, summary: "The internet gateway does not exist." },
  "InvalidInternetGatewayID.Malformed": { status: 400, summary: "The internet gateway id is malformed." },
  "InvalidRouteTableID.NotFound": { status: 400, summary: "The route table does not exist." },
  "InvalidRouteTableID.Malformed": { status: 400, summary: "The route table id is malformed." },
  "InvalidNetworkInterfaceID.NotFound": { status: 400, summary: "The network interface does not exist." },
  "InvalidNetworkInterfaceID.Malformed": { status: 400, summary: "The network interface id is malformed." },
  "InvalidAllocationID.NotFound": { status: 400, summary: "The Elastic IP allocation does not exist." },
  "InvalidAllocationID.Malformed": { status: 400, summary: "The Elastic IP allocation id is malformed." },
  "InvalidAssociationID.NotFound": {
    status: 400,
    summary: "The association (route table or address) does not exist.",
  },
  "InvalidAddress.NotFound": { status: 400, summary: "The Elastic IP address is not one of the account's." },
  "InvalidGatewayID.NotFound": { status: 400, summary: "The gateway a route names does not exist." },
  "InvalidVpc.Range": { status: 400, summary: "The VPC's CIDR block is not /16 to /28." },
  "InvalidSubnet.Range": {
    status: 400,
    summary: "The subnet's CIDR block is not /16 to /28 or not inside its VPC's.",
  },
  "InvalidSubnet.Conflict": {
    status: 400,
    summary: "The subnet's CIDR block overlaps another subnet of the VPC.",
  },
  DependencyViolation: {
    status: 400,
    summary: "The resource has dependent resources and cannot be deleted or changed.",
  },
  "Resource.AlreadyAssociated": { status: 400, summary: "The resource is already attached or associated." },
  "Gateway.NotAttached": { status: 400, summary: "The internet gateway is not attached to the VPC." },
  RouteAlreadyExists: { status: 400, summary: "The route table already has a route for the destination." },
  "InvalidRoute.NotFound": { status: 400, summary: "The route table has no route for the destination." },
  "InvalidIPAddress.InUse": {
    status: 400,
    summary: "The IP address is in use (by an interface or an association).",
  },
  InsufficientFreeAddressesInSubnet: {
    status: 400,
    summary: "The subnet has too few free addresses for the launch.",
  },
  InsufficientAddressCapacity: {
    status: 503,
    summary: "The region's share of the public pool has no free address.",
  },
  MissingInput: { status: 400, summary: "The default VPC has no default subnet in the requested zone." },
  VpcLimitExceeded: { status: 400, summary: "The account would exceed its VPC quota (5) in the region." },
  AddressLimitExceeded: {
    status: 400,
    summary: "The account would exceed its Elastic IP quota (5) in the region.",
  },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class StrataError extends Error {
  readonly code: ErrorCode;
  /** The EBS APIs' machine-readable Reason (e.g. INVALID_BLOCK), where the API has one. */
  readonly reason?: string;
  constructor(code: ErrorCode, message: string, reason?: string) {
    super(message);
    this.name = "StrataError";
    this.code = code;
    this.reason = reason;
  }
  get status(): number {
    return errorCatalogue[this.code].status;
  }
}

export function isStrataError(e: unknown, code?: ErrorCode): e is StrataError {
  return e instanceof StrataError && (code === undefined || e.code === code);
}

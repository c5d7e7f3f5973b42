"""Kafka's admin requests for SCRAM credentials and ACLs, in the flexible versions a Kafka 4
broker speaks (KIP-896 removed ACL requests v0-v1, the only ones aiokafka 0.14 ships, and
aiokafka has no AlterUserScramCredentials at all). Built on aiokafka's own protocol types and
sent through its admin client's connection, so no second Kafka client library is needed.
Schemas: clients/src/main/resources/common/message/*.json in apache/kafka."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

# aiokafka ships no type hints: subclassing its classes needs `type: ignore[misc]`.
TEXT = CompactString("utf-8")
ERROR = (("error_code", Int16), ("error_message", TEXT))
ACL_FILTER = (("resource_type", Int8), ("resource_name", TEXT), ("pattern_type", Int8),
              ("principal", TEXT), ("host", TEXT), ("operation", Int8),
              ("permission_type", Int8))


class AlterUserScramCredentialsResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(("user", TEXT), *ERROR, ("tags", TaggedFields))),
        ("tags", TaggedFields))


class AlterUserScramCredentialsRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = AlterUserScramCredentialsResponse_v0
    SCHEMA = Schema(
        ("deletions", CompactArray(("name", TEXT), ("mechanism", Int8),
                                   ("tags", TaggedFields))),
        ("upsertions", CompactArray(("name", TEXT), ("mechanism", Int8), ("iterations", Int32),
                                    ("salt", CompactBytes), ("salted_password", CompactBytes),
                                    ("tags", TaggedFields))),
        ("tags", TaggedFields))


class CreateAclsResponse_v2(Response):  # type: ignore[misc]
    API_KEY = 30
    API_VERSION = 2
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("results", CompactArray(*ERROR, ("tags", TaggedFields))),
        ("tags", TaggedFields))


class CreateAclsRequest_v2(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 30
    API_VERSION = 2
    RESPONSE_TYPE = CreateAclsResponse_v2
    SCHEMA = Schema(
        ("creations", CompactArray(*ACL_FILTER, ("tags", TaggedFields))),
        ("tags", TaggedFields))


class DeleteAclsResponse_v2(Response):  # type: ignore[misc]
    API_KEY = 31
    API_VERSION = 2
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        ("filter_results", CompactArray(
            *ERROR,
            ("matching_acls", CompactArray(*ERROR, *ACL_FILTER, ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields))


class DeleteAclsRequest_v2(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 31
    API_VERSION = 2
    RESPONSE_TYPE = DeleteAclsResponse_v2
    SCHEMA = Schema(
        ("filters", CompactArray(*ACL_FILTER, ("tags", TaggedFields))),
        ("tags", TaggedFields))


class DescribeAclsResponse_v2(Response):  # type: ignore[misc]
    API_KEY = 29
    API_VERSION = 2
    SCHEMA = Schema(
        ("throttle_time_ms", Int32), *ERROR,
        ("resources", CompactArray(
            ("resource_type", Int8), ("resource_name", TEXT), ("pattern_type", Int8),
            ("acls", CompactArray(("principal", TEXT), ("host", TEXT), ("operation", Int8),
                                  ("permission_type", Int8), ("tags", TaggedFields))),
            ("tags", TaggedFields))),
        ("tags", TaggedFields))


class DescribeAclsRequest_v2(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 29
    API_VERSION = 2
    RESPONSE_TYPE = DescribeAclsResponse_v2
    SCHEMA = Schema(*ACL_FILTER, ("tags", TaggedFields))


AlterScramStruct: TypeAlias = AlterUserScramCredentialsRequest_v0
CreateAclsStruct: TypeAlias = CreateAclsRequest_v2
DeleteAclsStruct: TypeAlias = DeleteAclsRequest_v2
DescribeAclsStruct: TypeAlias = DescribeAclsRequest_v2


class AlterScram(Request[AlterScramStruct]):  # type: ignore[misc]
    """Upsertions `(name, mechanism, iterations, salt, salted_password, {})` and deletions
    `(name, mechanism, {})`, applied together."""

    API_KEY = 51

    def __init__(self, deletions: Sequence[tuple[object, ...]],
                 upsertions: Sequence[tuple[object, ...]]) -> None:
        self.deletions, self.upsertions = deletions, upsertions

    def build(self, request_struct_class: type[AlterScramStruct]) -> AlterScramStruct:
        return request_struct_class(self.deletions, self.upsertions, {})


class CreateAcls(Request[CreateAclsStruct]):  # type: ignore[misc]
    """Creations: ACL_FILTER tuples, each with a trailing `{}` (its tagged fields)."""

    API_KEY = 30

    def __init__(self, creations: Sequence[tuple[object, ...]]) -> None:
        self.creations = creations

    def build(self, request_struct_class: type[CreateAclsStruct]) -> CreateAclsStruct:
        return request_struct_class(self.creations, {})


class DeleteAcls(Request[DeleteAclsStruct]):  # type: ignore[misc]
    """Filters: ACL_FILTER tuples (None matches any name, principal or host), each + `{}`."""

    API_KEY = 31

    def __init__(self, filters: Sequence[tuple[object, ...]]) -> None:
        self.filters = filters

    def build(self, request_struct_class: type[DeleteAclsStruct]) -> DeleteAclsStruct:
        return request_struct_class(self.filters, {})


class DescribeAcls(Request[DescribeAclsStruct]):  # type: ignore[misc]
    """One ACL_FILTER tuple."""

    API_KEY = 29

    def __init__(self, acl_filter: tuple[object, ...]) -> None:
        self.acl_filter = acl_filter

    def build(self, request_struct_class: type[DescribeAclsStruct]) -> DescribeAclsStruct:
        return request_struct_class(*self.acl_filter, {})

-- Each tenant's agent logs in as a role of its own (`agent_<schema>_<n>`, made by the operator,
-- operator/database_login.py): a member of its tenant's role and of `simptu_agents`, nothing
-- else. Of the platform it reads only its own tenant's registry row: `simptu_agents` may select
-- from platform.tenants, and a restrictive row policy narrows that to the row whose tenant role
-- the login belongs to. Every other role keeps what it had (the permissive policy below); the
-- table's owner, who runs the runtimes, bypasses row security anyway.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'simptu_agents') THEN
        CREATE ROLE simptu_agents NOLOGIN;
    END IF;
END
$$;
ALTER TABLE platform.tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY platform_roles ON platform.tenants USING (true) WITH CHECK (true);
CREATE POLICY agent_reads_its_own_tenant ON platform.tenants AS RESTRICTIVE FOR SELECT
    TO simptu_agents
    USING (pg_has_role(session_user, (SELECT oid FROM pg_roles WHERE rolname = schema_name),
                       'MEMBER'));
GRANT USAGE ON SCHEMA platform TO simptu_agents;
-- The number of each new login: never reused, so a pooler never meets a name again whose role
-- was dropped (its pooled server connections would act for a role that no longer exists).
CREATE SEQUENCE platform.agent_login_numbers;
GRANT SELECT ON platform.tenants TO simptu_agents;

-- PgBouncer's auth_query for the agents' logins: the SCRAM verifier of a login role of an
-- agent (never of another role), for a pooler whose auth_user may not read pg_authid itself.
CREATE FUNCTION platform.agent_login_secret(login text, OUT usename name, OUT passwd text)
    RETURNS SETOF record LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = pg_catalog AS $$
    SELECT rolname, rolpassword FROM pg_authid
    WHERE rolname = login AND rolcanlogin AND rolname LIKE 'agent\_%'
      AND pg_has_role(rolname, 'simptu_agents', 'MEMBER')
      AND (rolvaliduntil IS NULL OR rolvaliduntil > now())
$$;
REVOKE ALL ON FUNCTION platform.agent_login_secret(text) FROM PUBLIC;

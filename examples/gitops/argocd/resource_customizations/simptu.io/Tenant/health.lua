-- Argo CD health of a Simptu Tenant (simptu.io/v1alpha1), from what its operator writes in
-- status: one condition per provisioned part (DatabaseReady ... AgentReady), Ready when all of
-- them are and the tenant is routable, kstatus' Reconciling and Stalled, phase and
-- observedGeneration. A status older than the spec says nothing about the spec: Progressing.
local hs = {}

local function find(conditions, kind)
  if conditions == nil then
    return nil
  end
  for _, condition in ipairs(conditions) do
    if condition.type == kind then
      return condition
    end
  end
  return nil
end

local function is_true(condition)
  return condition ~= nil and condition.status == "True"
end

local metadata = obj.metadata or {}
local spec = obj.spec or {}
local status = obj.status or {}
local conditions = status.conditions
local generation = metadata.generation or 0

if metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting the tenant under deletionPolicy " .. (spec.deletionPolicy or "Retain")
  if status.phase == "Deleting" and status.lastError ~= nil and status.lastError ~= "" then
    hs.message = hs.message .. ": " .. status.lastError
  end
  return hs
end

local paused = find(conditions, "ReconciliationPaused")
if is_true(paused) then
  hs.status = "Suspended"
  hs.message = paused.message
  return hs
end

if status.observedGeneration == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile the tenant"
  return hs
end

local ready = find(conditions, "Ready")
local described = status.observedGeneration
if ready ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < described then
  described = ready.observedGeneration
end
if described < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to apply generation " .. generation ..
    " (status describes generation " .. described .. ")"
  return hs
end

local stalled = find(conditions, "Stalled")
if is_true(stalled) or status.phase == "Failed" then
  hs.status = "Degraded"
  if is_true(stalled) then
    hs.message = stalled.message
  elseif status.lastError ~= nil and status.lastError ~= "" then
    hs.message = status.lastError
  else
    hs.message = (ready and ready.message) or "The operator gave up on the tenant"
  end
  return hs
end

if is_true(ready) then
  if spec.suspended == true then
    hs.status = "Suspended"
    hs.message = "Suspended by spec.suspended: agent scaled to zero, traffic refused"
    return hs
  end
  hs.status = "Healthy"
  hs.message = ready.message
  local channels = find(conditions, "ChannelsReady")
  if channels ~= nil and channels.status == "False" then
    hs.message = hs.message .. "; ChannelsReady: " .. channels.message
  end
  return hs
end

hs.status = "Progressing"
if ready ~= nil then
  hs.message = ready.message
else
  hs.message = "Waiting for the Ready condition"
end
return hs

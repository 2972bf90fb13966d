# One role per principal per resource (local.role_assignments); no assignment at subscription scope.
resource "azurerm_role_assignment" "this" {
  for_each = local.role_assignments

  principal_id         = each.value.principal_id
  scope                = each.value.scope
  principal_type       = "ServicePrincipal"
  role_definition_name = each.value.role
}

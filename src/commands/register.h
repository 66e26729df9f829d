// Registration of every command family into the command table.
#pragma once

#include "server/command_table.h"

namespace shoal::cmd {

void RegisterStringCommands(server::CommandTable& table);
void RegisterCounterCommands(server::CommandTable& table);
void RegisterMultiStringCommands(server::CommandTable& table);
void RegisterLcsCommand(server::CommandTable& table);
void RegisterKeyCommands(server::CommandTable& table);
void RegisterRenameCommands(server::CommandTable& table);
void RegisterScanCommand(server::CommandTable& table);
void RegisterObjectCommand(server::CommandTable& table);
void RegisterExpireCommands(server::CommandTable& table);
void RegisterConnectionCommands(server::CommandTable& table);
void RegisterClientCommand(server::CommandTable& table);
void RegisterServerCommands(server::CommandTable& table);
void RegisterConfigCommand(server::CommandTable& table);
void RegisterInfoCommand(server::CommandTable& table);
void RegisterCommandCommand(server::CommandTable& table);
void RegisterListCommands(server::CommandTable& table);
void RegisterBlockingCommands(server::CommandTable& table);
void RegisterHashCommands(server::CommandTable& table);
void RegisterSetCommands(server::CommandTable& table);
void RegisterZSetCommands(server::CommandTable& table);
void RegisterBitmapCommands(server::CommandTable& table);
void RegisterHyperLogLogCommands(server::CommandTable& table);
void RegisterScriptCommands(server::CommandTable& table);
void RegisterTransactionCommands(server::CommandTable& table);
void RegisterJsonCommands(server::CommandTable& table);
void RegisterPersistenceCommands(server::CommandTable& table);

inline void RegisterAllCommands(server::CommandTable& table) {
  RegisterStringCommands(table);
  RegisterCounterCommands(table);
  RegisterMultiStringCommands(table);
  RegisterLcsCommand(table);
  RegisterKeyCommands(table);
  RegisterRenameCommands(table);
  RegisterScanCommand(table);
  RegisterObjectCommand(table);
  RegisterExpireCommands(table);
  RegisterConnectionCommands(table);
  RegisterClientCommand(table);
  RegisterServerCommands(table);
  RegisterConfigCommand(table);
  RegisterInfoCommand(table);
  RegisterCommandCommand(table);
  RegisterListCommands(table);
  RegisterBlockingCommands(table);
  RegisterHashCommands(table);
  RegisterSetCommands(table);
  RegisterZSetCommands(table);
  RegisterBitmapCommands(table);
  RegisterHyperLogLogCommands(table);
  RegisterScriptCommands(table);
  RegisterTransactionCommands(table);
  RegisterJsonCommands(table);
  RegisterPersistenceCommands(table);
}

}  // namespace shoal::cmd

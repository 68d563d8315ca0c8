<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutScreen</name>
    <message>
        <location filename="../../ui/about/screen.py" line="23" />
        <source>About</source>
        <translation>关于</translation>
    </message>
    <message>
        <location filename="../../ui/about/screen.py" line="24" />
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../../ui/about/screen.py" line="25" />
        <source>Data folder</source>
        <translation>数据目录</translation>
    </message>
</context>
<context>
    <name>AuditScreen</name>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="84" />
        <source>Checking...</source>
        <translation>核验中...</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="116" />
        <source>%1–%2 of %3</source>
        <translation>第 %1–%2 条, 共 %3 条</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="127" />
        <source>Audit log intact: %1 entries checked.</source>
        <translation>审计日志完整: 已核对 %1 条。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="130" />
        <source>Audit log has been tampered with!</source>
        <translation>审计日志已被篡改!</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="138" />
        <source>Audit log</source>
        <translation>审计日志</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="139" />
        <source>Verify</source>
        <translation>校验</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="140" />
        <source>Newer</source>
        <translation>较新</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="141" />
        <source>Older</source>
        <translation>较早</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="142" />
        <source>No.</source>
        <translation>序号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="142" />
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="142" />
        <source>User</source>
        <translation>用户</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="143" />
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <location filename="../../ui/admin/audit_screen.py" line="143" />
        <source>Details</source>
        <translation>详情</translation>
    </message>
</context>
<context>
    <name>CameraPreview</name>
    <message>
        <location filename="../../ui/checkin/preview.py" line="183" />
        <source>No camera picture</source>
        <translation>无摄像头画面</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/preview.py" line="184" />
        <source>Camera starting...</source>
        <translation>摄像头启动中...</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/preview.py" line="185" />
        <source>Waiting for the picture...</source>
        <translation>等待画面...</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/preview.py" line="186" />
        <source>Camera disconnected, reconnecting...</source>
        <translation>摄像头已断开, 正在重连...</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/preview.py" line="187" />
        <source>Camera failed</source>
        <translation>摄像头故障</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/preview.py" line="188" />
        <source>Camera stopped</source>
        <translation>摄像头已停止</translation>
    </message>
</context>
<context>
    <name>CheckinScreen</name>
    <message>
        <location filename="../../ui/checkin/screen.py" line="254" />
        <source>Compare the two photos: F7 if it is the same person, F8 if not.</source>
        <translation>请核对两张照片: 本人按 F7, 非本人按 F8。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="262" />
        <source>There is no verdict to override.</source>
        <translation>当前没有可人工放行的核验结果。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="273" />
        <source>The face comparison already has a result, which stands: the patient can decline the face check only before it is made.</source>
        <translation>人证比对已有结果, 不能再改为人工核验 (不同意人脸核验须在比对之前提出)。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="280" />
        <source>There is no undecided face to judge.</source>
        <translation>没有待核对的人脸比对。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="285" />
        <source>There is no card to check: only a number read by the camera needs it.</source>
        <translation>没有待查验的证件: 只有摄像头识别的证件号码需要查验原件。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="408" />
        <source>Alerts: %1</source>
        <translation>告警: %1</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="413" />
        <source>Check-in</source>
        <translation>报到核验</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="415" />
        <source>Next patient</source>
        <translation>下一位</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="416" />
        <source>Reset</source>
        <translation>重置</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="417" />
        <source>Override</source>
        <translation>人工放行</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="418" />
        <source>Type ID number</source>
        <translation>手工输入证件号</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="419" />
        <source>Declines face check</source>
        <translation>不同意人脸核验</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="420" />
        <source>Report suspect</source>
        <translation>上报可疑人员</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="421" />
        <source>Same person</source>
        <translation>本人</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="422" />
        <source>Not the same person</source>
        <translation>非本人</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="423" />
        <source>Card checked</source>
        <translation>已查验证件</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="424" />
        <source>Record appeal</source>
        <translation>记录申诉</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/screen.py" line="425" />
        <source>Unfreeze booking account</source>
        <translation>解冻预约账号</translation>
    </message>
</context>
<context>
    <name>ClerkJudgementsTable</name>
    <message>
        <location filename="../../ui/stats/judgements.py" line="62" />
        <source>Confirms without looking</source>
        <translation>未核对即确认</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="64" />
        <source>Overrides far above colleagues</source>
        <translation>人工放行次数远高于同事</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="66" />
        <source>Quick confirmations far above colleagues</source>
        <translation>未核对即确认次数远高于同事</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="87" />
        <source>Undecided faces judged by each clerk</source>
        <translation>各挂号员的人脸人工核对 (比对不确定的病例)</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="89" />
        <source>Clerk</source>
        <translation>挂号员</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="89" />
        <source>Judged</source>
        <translation>核对数</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="89" />
        <source>Same person</source>
        <translation>本人</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="90" />
        <source>Not the same</source>
        <translation>非本人</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="90" />
        <source>Same within 1 s</source>
        <translation>1 秒内判为本人</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="90" />
        <source>Median seconds</source>
        <translation>用时中位数 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="91" />
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../ui/stats/judgements.py" line="91" />
        <source>Overrides</source>
        <translation>人工放行</translation>
    </message>
</context>
<context>
    <name>DemoCaption</name>
    <message>
        <location filename="../../ui/demo/caption.py" line="83" />
        <source>The demo has ended: %1 of %2 patients got the verdict expected.</source>
        <translation>演示结束: %2 位患者中 %1 位得到预期的核验结论。</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="85" />
        <source>Pick a scenario in the Demo tab to see it again.</source>
        <translation>可在「演示」页选择场景再看一次。</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="88" />
        <source>The demo stopped. Pick a scenario in the Demo tab.</source>
        <translation>演示已停止。请在「演示」页选择场景。</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="91" />
        <source>Patient %1 of %2: %3</source>
        <translation>第 %1/%2 位患者: %3</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="98" />
        <source>The desk decides: %1 (as expected)</source>
        <translation>核验结论: %1 (与预期一致)</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="100" />
        <source>The desk decides: %1 (expected: %2)</source>
        <translation>核验结论: %1 (预期: %2)</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="78" />
        <source>Esc: stop the demo</source>
        <translation>按 Esc 停止演示</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="108" />
        <source>the next patient comes to the window</source>
        <translation>下一位患者来到挂号窗口</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="109" />
        <source>the patient shows the booking QR code on a phone</source>
        <translation>患者出示手机上的预约二维码</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="110" />
        <source>the ID card goes on the reader</source>
        <translation>身份证放上阅读器</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="111" />
        <source>the patient looks at the camera: the face is compared with the card photo</source>
        <translation>患者看向摄像头: 人证比对 (现场人脸与证件照)</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="113" />
        <source>the network is down: the desk checks patients in offline</source>
        <translation>网络中断: 本窗口以离线模式核验患者</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="114" />
        <source>the network is back: the offline records are uploaded</source>
        <translation>网络恢复: 离线核验记录补传到中心平台</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="118" />
        <source>Admit</source>
        <translation>核验通过</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="118" />
        <source>Review by the clerk</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="119" />
        <source>Reject</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="119" />
        <source>no verdict</source>
        <translation>无结论</translation>
    </message>
    <message>
        <location filename="../../ui/demo/caption.py" line="122" />
        <source>Demo</source>
        <translation>演示</translation>
    </message>
</context>
<context>
    <name>DemoPanel</name>
    <message>
        <location filename="../../ui/demo/panel.py" line="79" />
        <source>Demo</source>
        <translation>演示</translation>
    </message>
    <message>
        <location filename="../../ui/demo/panel.py" line="83" />
        <source>Pick the next patient; the check-in screen shows what the desk concludes.</source>
        <translation>选择下一位患者, 报到核验界面将显示本窗口的核验结论。</translation>
    </message>
    <message>
        <location filename="../../ui/demo/panel.py" line="85" />
        <source>Play the selected scenario</source>
        <translation>播放所选场景</translation>
    </message>
    <message>
        <location filename="../../ui/demo/panel.py" line="86" />
        <source>Play all scenarios</source>
        <translation>播放全部场景</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <location filename="../../ui/shell/login.py" line="136" />
        <source>This window is the security office: sign in as security staff or an administrator.</source>
        <extracomment>``desk-app run --security-office``: the window shows only these, to these roles.</extracomment>
        <translation>本窗口为保卫科告警中心, 请使用安保人员或管理员账号登录。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="142" />
        <source>Enter your user name and password.</source>
        <translation>请输入用户名和密码。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="174" />
        <location filename="../../ui/shell/login.py" line="184" />
        <source>Log in</source>
        <translation>登录</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="177" />
        <source>You were signed out: your account was disabled or changed by the hospital's administrator.</source>
        <translation>您已退出登录: 您的账号已被医院管理员停用或修改。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="180" />
        <source>Locked after inactivity. Log in again to continue.</source>
        <translation>长时间无操作已锁定, 请重新登录。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="181" />
        <source>Log in with your desk account.</source>
        <translation>请使用窗口账号登录。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="182" />
        <source>User name</source>
        <translation>用户名</translation>
    </message>
    <message>
        <location filename="../../ui/shell/login.py" line="183" />
        <source>Password</source>
        <translation>密码</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../ui/shell/main_window.py" line="88" />
        <source>Security office</source>
        <extracomment>the person at the desk asks to sign out (to hand the desk to a colleague): the composition root logs out and shows the login again</extracomment>
        <translation>保卫科告警中心</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="89" />
        <source>Real-name check-in</source>
        <translation>实名就诊核验</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="90" />
        <source>Sign out / switch user (Ctrl+L)</source>
        <translation>退出 / 切换用户 (Ctrl+L)</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="94" />
        <source>clerk</source>
        <translation>挂号员</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="94" />
        <source>security</source>
        <translation>安保人员</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="95" />
        <source>administrator</source>
        <translation>管理员</translation>
    </message>
    <message>
        <location filename="../../ui/shell/main_window.py" line="96" />
        <source>Signed in: %1 (%2)</source>
        <translation>当前用户: %1 (%2)</translation>
    </message>
</context>
<context>
    <name>NoteDialog</name>
    <message>
        <location filename="../../ui/dialogs.py" line="112" />
        <source>Override the verdict</source>
        <translation>人工放行</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="113" />
        <source>Why do you override this verdict? The reason is recorded with your name.</source>
        <translation>请填写人工放行的原因 (将与您的姓名一起记录):</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="115" />
        <source>Report a suspect</source>
        <translation>上报可疑人员</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="116" />
        <source>Why do you think this person is a scalper? The report goes to the platform.</source>
        <translation>请说明怀疑此人为号贩子的理由 (将上报中心平台):</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="118" />
        <source>Mark alert handled</source>
        <translation>标记告警已处理</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="119" />
        <source>What was done? The note is recorded with your name.</source>
        <translation>请填写处理情况 (将与您的姓名一起记录):</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="120" />
        <source>Enter ID number</source>
        <translation>手工输入证件号码</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="121" />
        <source>The card could not be read. Type the ID number from the card:</source>
        <translation>无法读取证件, 请按证件输入身份证号码:</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="128" />
        <source>Your role may not make this decision. A colleague from security or an administrator enters their own user name and password for this one decision; it is recorded with both names.</source>
        <translation>当前账号无权作此决定。请保卫科或管理员在此输入本人的用户名和密码, 仅用于这一次决定; 记录中同时留下双方姓名。</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="131" />
        <source>Supervisor's user name</source>
        <translation>保卫科/管理员用户名</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="132" />
        <source>Supervisor's password</source>
        <translation>保卫科/管理员密码</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="133" />
        <source>Admit</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="133" />
        <source>Review</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="134" />
        <source>Reject</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/dialogs.py" line="139" />
        <source>Choose a decision...</source>
        <translation>请选择处理结果…</translation>
    </message>
</context>
<context>
    <name>ReaderHint</name>
    <message>
        <location filename="../../ui/shell/reader_hint.py" line="76" />
        <source>The ID card reader is not connected: check its cable, or type the ID number by hand (F3).</source>
        <translation>身份证阅读器未连接, 请检查连线, 或手工输入证件号码 (F3)。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/reader_hint.py" line="79" />
        <source>The ID card reader does not respond: check its cable, or type the ID number by hand (F3).</source>
        <translation>身份证阅读器无响应, 请检查连线或重新插拔, 或手工输入证件号码 (F3)。</translation>
    </message>
    <message>
        <location filename="../../ui/shell/reader_hint.py" line="82" />
        <source>The ID card was not read: please place it on the reader again.</source>
        <translation>身份证未能读取, 请重新放置身份证。</translation>
    </message>
</context>
<context>
    <name>SecurityScreen</name>
    <message>
        <location filename="../../ui/security/screen.py" line="252" />
        <source>Admit</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="252" />
        <source>Review</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="253" />
        <source>Reject</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="256" />
        <source>Handled</source>
        <translation>已处理</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="256" />
        <source>Open</source>
        <translation>待处理</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="265" />
        <source>Conflict</source>
        <translation>冲突</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="290" />
        <source>No alert selected</source>
        <translation>未选择告警</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="317" />
        <source>The same booking was checked in at another desk.</source>
        <translation>该预约已在其他窗口报到。</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="337" />
        <location filename="../../ui/security/screen.py" line="364" />
        <source>Photos only at the window that raised the alert</source>
        <translation>照片仅保存在发出告警的窗口</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="339" />
        <source>No photo kept</source>
        <translation>未保存照片</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="339" />
        <source>Loading...</source>
        <translation>加载中...</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="357" />
        <source>Photos only for security staff and administrators</source>
        <translation>照片仅供安保人员和管理员查看</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="362" />
        <source>Photos no longer kept</source>
        <translation>照片已不再保存</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="363" />
        <source>Offline: photos at the window that raised it</source>
        <translation>离线: 照片在发出告警的窗口</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="375" />
        <source>Photo deleted (retention)</source>
        <translation>照片已过保存期限并删除</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="382" />
        <source>Security</source>
        <translation>安保告警</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="383" />
        <source>Show handled alerts</source>
        <translation>显示已处理的告警</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="384" />
        <source>Refresh</source>
        <translation>刷新</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="386" />
        <location filename="../../ui/security/screen.py" line="390" />
        <source>Time</source>
        <translation>时间</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="386" />
        <location filename="../../ui/security/screen.py" line="390" />
        <source>Desk</source>
        <translation>窗口</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="386" />
        <source>Verdict</source>
        <translation>核验结果</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="386" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="387" />
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="387" />
        <location filename="../../ui/security/screen.py" line="391" />
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="388" />
        <source>ID card photo</source>
        <translation>证件照</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="389" />
        <source>Live face</source>
        <translation>现场人脸</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="390" />
        <source>Person</source>
        <translation>人员</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="391" />
        <source>Booking</source>
        <translation>预约</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="392" />
        <source>Note</source>
        <translation>备注</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="395" />
        <source>Mark handled...</source>
        <translation>标记已处理...</translation>
    </message>
    <message>
        <location filename="../../ui/security/screen.py" line="396" />
        <source>Report suspect...</source>
        <translation>上报可疑人员...</translation>
    </message>
</context>
<context>
    <name>SettingsScreen</name>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="238" />
        <source>Nothing changed.</source>
        <translation>没有修改。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="255" />
        <source>Settings saved.</source>
        <translation>设置已保存。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="278" />
        <source>Enter the enrollment code from the platform.</source>
        <translation>请输入中心平台提供的注册码。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="287" />
        <source>Desk enrolled with the platform.</source>
        <translation>本窗口已在中心平台注册。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="305" />
        <source>Desk</source>
        <translation>窗口</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="305" />
        <source>Platform</source>
        <translation>中心平台</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="306" />
        <source>Devices</source>
        <translation>设备</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="306" />
        <source>Face comparison</source>
        <translation>人脸比对</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="307" />
        <source>Policy</source>
        <translation>核验规则</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="307" />
        <source>Sync</source>
        <translation>同步</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="308" />
        <source>Privacy and retention</source>
        <translation>隐私与保存期限</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="308" />
        <source>Screen</source>
        <translation>界面</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="312" />
        <source>Desk ID</source>
        <translation>窗口编号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="313" />
        <source>Hospital ID</source>
        <translation>医院编号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="314" />
        <source>Hospital name</source>
        <translation>医院名称</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="315" />
        <source>Language</source>
        <translation>语言</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="316" />
        <source>Back up the database every (min)</source>
        <translation>数据库备份间隔 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="317" />
        <source>Backups kept</source>
        <translation>保留备份份数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="318" />
        <source>Platform address</source>
        <translation>平台地址</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="319" />
        <source>Verify TLS certificate</source>
        <translation>校验 TLS 证书</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="320" />
        <source>CA certificate file</source>
        <translation>CA 证书文件</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="321" />
        <source>Timeout (s)</source>
        <translation>超时 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="322" />
        <source>Sync interval (s)</source>
        <translation>同步间隔 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="323" />
        <source>Upload batch size</source>
        <translation>每批上传条数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="324" />
        <source>Longest retry wait (s)</source>
        <translation>最长重试等待 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="325" />
        <location filename="../../ui/admin/settings_screen.py" line="367" />
        <source>Blacklist out of date after (h)</source>
        <translation>黑名单过期提醒 (小时)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="326" />
        <source>Patient camera</source>
        <translation>患者摄像头</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="327" />
        <source>Counter camera</source>
        <translation>台面摄像头</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="328" />
        <source>Camera width</source>
        <translation>画面宽度</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="329" />
        <source>Camera height</source>
        <translation>画面高度</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="330" />
        <source>ID card reader port</source>
        <translation>身份证阅读器端口</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="331" />
        <source>Card photo decoder library</source>
        <translation>证件照解码库</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="332" />
        <source>Read ID cards with the counter camera</source>
        <translation>用台面摄像头识读身份证</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="333" />
        <source>Handheld scanner</source>
        <translation>手持扫码枪</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="334" />
        <source>Scanner key interval (ms)</source>
        <translation>扫码枪按键间隔 (毫秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="335" />
        <source>Face comparison score</source>
        <translation>人脸比对分数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="336" />
        <source>Never the same person above distance (relatives)</source>
        <translation>距离大于此值不判同一人 (防亲属冒用)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="338" />
        <source>Hold a match whose face looks the other sex than the ID card</source>
        <translation>面部性别与证件不符时不判同一人</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="340" />
        <source>Confidence needed for that (0.5-1)</source>
        <translation>性别判断所需置信度 (0.5-1)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="341" />
        <source>Same person below distance</source>
        <translation>同一人阈值 (距离小于)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="342" />
        <source>Different person above distance</source>
        <translation>非同一人阈值 (距离大于)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="343" />
        <source>Best frames compared</source>
        <translation>参与比对的最佳帧数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="344" />
        <source>Comparison window (s)</source>
        <translation>比对时间窗 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="345" />
        <source>Smallest face (pixels)</source>
        <translation>最小人脸 (像素)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="346" />
        <source>Liveness check</source>
        <translation>活体检测</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="347" />
        <source>Rule: ID card is the booked patient</source>
        <translation>规则: 一证一号 (证件须为预约本人)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="348" />
        <source>Rule: ID document valid</source>
        <translation>规则: 证件有效</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="349" />
        <source>Rule: face comparison</source>
        <translation>规则: 人脸比对</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="350" />
        <source>Rule: blacklist</source>
        <translation>规则: 黑名单</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="351" />
        <source>Rule: time slot</source>
        <translation>规则: 就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="352" />
        <source>Rule: duplicate check-in</source>
        <translation>规则: 重复报到</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="353" />
        <source>Rule: many bookings</source>
        <translation>规则: 预约过多</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="354" />
        <source>Rule: cancel and rebook</source>
        <translation>规则: 边退边买</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="355" />
        <source>Rule: booked by a bot</source>
        <translation>规则: 秒杀器抢号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="356" />
        <source>Alert security: not the booked patient</source>
        <translation>通知安保: 非预约本人</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="357" />
        <source>Alert security: forged booking code</source>
        <translation>通知安保: 伪造预约码</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="358" />
        <source>Expired ID card</source>
        <translation>证件过期</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="359" />
        <source>ID number typed by hand</source>
        <translation>手工输入证件号码</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="360" />
        <source>ID read by camera, card not yet checked</source>
        <translation>摄像头识别证件, 尚未查验原件</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="361" />
        <source>Admit only with a chip read</source>
        <translation>须读取身份证芯片方可通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="362" />
        <source>Face comparison uncertain</source>
        <translation>人脸比对不确定</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="363" />
        <source>Face comparison unavailable</source>
        <translation>人脸比对不可用</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="364" />
        <source>Alert security: face mismatch</source>
        <translation>通知安保: 人证不符</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="365" />
        <source>Liveness check failed</source>
        <translation>活体检测未通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="366" />
        <source>Alert security: liveness failed</source>
        <translation>通知安保: 活体检测未通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="368" />
        <source>Blacklist out of date</source>
        <translation>黑名单已过期</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="369" />
        <source>Too early for the slot</source>
        <translation>早于就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="370" />
        <source>Too late for the slot</source>
        <translation>晚于就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="371" />
        <source>Booking already checked in</source>
        <translation>预约已报到</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="372" />
        <source>Alert security: duplicate check-in</source>
        <translation>通知安保: 重复报到</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="373" />
        <source>Same doctor per day</source>
        <translation>同一医生每日上限</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="374" />
        <source>Too many bookings</source>
        <translation>预约过多</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="375" />
        <source>Cancel and rebook</source>
        <translation>边退边买</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="376" />
        <source>Booked by a bot</source>
        <translation>疑似秒杀器抢号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="377" />
        <source>Clerk may override</source>
        <translation>挂号员可人工放行</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="378" />
        <source>Security may override</source>
        <translation>安保人员可人工放行</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="379" />
        <source>Admin may override</source>
        <translation>管理员可人工放行</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="380" />
        <source>Override reason at least (characters)</source>
        <translation>放行原因最少字数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="381" />
        <source>Override reason at most (characters)</source>
        <translation>放行原因最多字数</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="382" />
        <source>Check-in opens before the slot (min)</source>
        <translation>就诊时段前可报到 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="383" />
        <source>Check-in closes after the slot (min)</source>
        <translation>就诊时段后可报到 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="384" />
        <source>Bookings per patient per day</source>
        <translation>每人每日预约上限</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="385" />
        <source>Same department per day</source>
        <translation>同科室每日上限</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="386" />
        <source>Cancel-and-rebook window (min)</source>
        <translation>退号后重约判定时间 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="387" />
        <source>Booked faster than (s) = bot</source>
        <translation>抢号速度低于 (秒) 视为秒杀器</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="388" />
        <source>Patients per account in 30 days</source>
        <translation>单账号 30 天内就诊人上限</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="389" />
        <source>Keep face photos (days)</source>
        <translation>人脸照片保存 (天)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="390" />
        <source>Keep full ID number and name of a visit (days)</source>
        <translation>就诊记录保留完整证件号码和姓名 (天)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="391" />
        <source>Keep audit log (days)</source>
        <translation>审计日志保存 (天)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="393" />
        <source>Show a security alert's photos at the security office (kept on the platform a few days)</source>
        <translation>告警照片可在保卫科查看 (在平台保存数日)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="395" />
        <source>Reset screen after idle (s)</source>
        <translation>无操作自动重置 (秒)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="396" />
        <source>Lock after idle (min)</source>
        <translation>无操作自动锁定 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="397" />
        <source>Sound cues</source>
        <translation>提示音</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="398" />
        <source>Lock account after failed logins</source>
        <translation>连续登录失败几次后锁定账号</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="399" />
        <source>Account locked for (min)</source>
        <translation>账号锁定时长 (分钟)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="405" />
        <source>Phone/photo edges (passive)</source>
        <translation>手机/照片边框检测 (无需配合)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="406" />
        <source>Against the nearest strangers (cohort)</source>
        <translation>参照最相似的他人 (参照人群)</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="407" />
        <source>Plain distance</source>
        <translation>直接距离</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="408" />
        <source>Admit</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="408" />
        <source>Review</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="408" />
        <source>Reject</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="409" />
        <source>Not allowed</source>
        <translation>不允许</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="409" />
        <source>Review and reject</source>
        <translation>待复核及不通过</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="412" />
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="404" />
        <source>Off</source>
        <translation>关闭</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="211" />
        <source>this desk</source>
        <translation>本机</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="211" />
        <source>site</source>
        <translation>站点</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="212" />
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="213" />
        <source>Set on this desk: a change of site.toml does not reach it.</source>
        <translation>在本机设置: 修改站点配置 site.toml 不会影响此项。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="214" />
        <source>From the hospital's site.toml.</source>
        <translation>来自医院的站点配置 site.toml。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="215" />
        <source>The program's default.</source>
        <translation>程序默认值。</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="404" />
        <source>Blink</source>
        <translation>眨眼</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="404" />
        <source>Turn head</source>
        <translation>转头</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="429" />
        <source>Enrollment code</source>
        <translation>注册码</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="430" />
        <source>Enroll desk</source>
        <translation>注册本窗口</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="432" />
        <source>Test %1</source>
        <translation>测试%1</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="433" />
        <source>Save</source>
        <translation>保存</translation>
    </message>
    <message>
        <location filename="../../ui/admin/settings_screen.py" line="434" />
        <source>Revert</source>
        <translation>撤销修改</translation>
    </message>
</context>
<context>
    <name>StatsScreen</name>
    <message>
        <location filename="../../ui/stats/screen.py" line="151" />
        <source>Exported to %1</source>
        <translation>已导出到 %1</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="155" />
        <source>CSV file (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="155" />
        <source>Excel file (*.xlsx)</source>
        <translation>Excel 文件 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="156" />
        <source>Export</source>
        <translation>导出</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="168" />
        <source>Loading...</source>
        <translation>加载中...</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="169" />
        <source>Check-ins: %1   Admitted: %2   Review: %3   Rejected: %4   Blacklist hits: %5</source>
        <translation>报到: %1   通过: %2   待人工复核: %3   不通过: %4   命中黑名单: %5</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="178" />
        <source>Face uncertain</source>
        <translation>人脸比对不确定</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="179" />
        <source>Face mismatch</source>
        <translation>人证不符</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="180" />
        <source>Face check declined</source>
        <translation>不同意人脸核验</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="181" />
        <source>ID not the booked patient</source>
        <translation>非预约本人 (一证一号)</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="182" />
        <source>Blacklist</source>
        <translation>黑名单</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="183" />
        <source>Already checked in</source>
        <translation>重复报到</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="184" />
        <source>Too many bookings today</source>
        <translation>当日预约过多</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="185" />
        <source>Too early for the slot</source>
        <translation>早于就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="186" />
        <source>Too late for the slot</source>
        <translation>晚于就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="187" />
        <source>Cancel and rebook</source>
        <translation>边退边买</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="188" />
        <source>Booked by a bot</source>
        <translation>疑似秒杀器抢号</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="259" />
        <source>Check-ins per day</source>
        <translation>每日报到人数</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="261" />
        <source>Admit</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="261" />
        <source>Review</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="262" />
        <source>Reject</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="264" />
        <source>Verdicts</source>
        <translation>核验结果</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="269" />
        <source>Verdicts by reason</source>
        <translation>按原因统计</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="273" />
        <source>Peak hours</source>
        <translation>高峰时段</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="285" />
        <source>Statistics</source>
        <translation>统计报表</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="286" />
        <source>Today</source>
        <translation>今天</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="286" />
        <source>This week</source>
        <translation>本周</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="287" />
        <source>This month</source>
        <translation>本月</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="290" />
        <source>Export CSV</source>
        <translation>导出 CSV</translation>
    </message>
    <message>
        <location filename="../../ui/stats/screen.py" line="291" />
        <source>Export Excel</source>
        <translation>导出 Excel</translation>
    </message>
</context>
<context>
    <name>StepTile</name>
    <message>
        <location filename="../../ui/checkin/steps.py" line="72" />
        <source>Waiting</source>
        <translation>等待</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="73" />
        <source>Checking</source>
        <translation>核验中</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="74" />
        <source>OK</source>
        <translation>通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="75" />
        <source>Check</source>
        <translation>请核对</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="76" />
        <source>Failed</source>
        <translation>未通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="77" />
        <source>Skipped</source>
        <translation>已跳过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="82" />
        <source>Booking</source>
        <translation>预约</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="83" />
        <source>ID card</source>
        <translation>身份证</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="84" />
        <source>Face</source>
        <translation>人脸</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/steps.py" line="85" />
        <source>Checks</source>
        <translation>规则检查</translation>
    </message>
</context>
<context>
    <name>SyncStatusWidget</name>
    <message>
        <location filename="../../ui/shell/status.py" line="101" />
        <source>never</source>
        <translation>从未</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="106" />
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="108" />
        <source>%1 s ago</source>
        <translation>%1 秒前</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="110" />
        <source>%1 min ago</source>
        <translation>%1 分钟前</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="112" />
        <source>%1 h ago</source>
        <translation>%1 小时前</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="113" />
        <source>%1 days ago</source>
        <translation>%1 天前</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="116" />
        <source>Online</source>
        <translation>在线</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="116" />
        <source>Syncing</source>
        <translation>同步中</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="117" />
        <source>Offline mode</source>
        <translation>离线模式</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="117" />
        <source>Sync paused</source>
        <translation>同步已暂停</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="118" />
        <source>Sync error</source>
        <translation>同步出错</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="123" />
        <source>Platform status unknown</source>
        <translation>平台状态未知</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="129" />
        <source>Pending upload: %1</source>
        <translation>待上传: %1</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="130" />
        <source>Last sync: %1</source>
        <translation>上次同步: %1</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="131" />
        <source>Blacklist: %1</source>
        <translation>黑名单更新: %1</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="133" />
        <source>(out of date)</source>
        <translation>(已过期)</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="140" />
        <source>Patient camera</source>
        <translation>患者摄像头</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="141" />
        <source>Counter camera</source>
        <translation>台面摄像头</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="142" />
        <source>ID card reader</source>
        <translation>身份证阅读器</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="142" />
        <source>Scanner</source>
        <translation>扫码枪</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="145" />
        <source>working</source>
        <translation>正常</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="145" />
        <source>simulated</source>
        <translation>模拟</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="146" />
        <source>reconnecting</source>
        <translation>重连中</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="146" />
        <source>failed</source>
        <translation>故障</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="147" />
        <source>stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="147" />
        <source>not connected</source>
        <translation>未连接</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="148" />
        <source>enabled</source>
        <translation>已启用</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="156" />
        <source>ID card: read by camera (no reader)</source>
        <translation>身份证: 摄像头识读 (无阅读器)</translation>
    </message>
    <message>
        <location filename="../../ui/shell/status.py" line="162" />
        <source>Sync now</source>
        <translation>立即同步</translation>
    </message>
</context>
<context>
    <name>VerdictPanel</name>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="246" />
        <source>ADMIT</source>
        <translation>核验通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="247" />
        <source>REVIEW NEEDED</source>
        <translation>待人工复核</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="248" />
        <source>REJECT</source>
        <translation>不通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="249" />
        <source>Checking...</source>
        <translation>核验中...</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="257" />
        <source>Next patient</source>
        <translation>下一位</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="259" />
        <source>Decided by %1: %2</source>
        <translation>由 %1 决定: %2</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="262" />
        <source>Changed by hand to ADMIT</source>
        <translation>人工改判为通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="263" />
        <source>Changed by hand to REJECT</source>
        <translation>人工改判为不通过</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="269" />
        <source>Identity, booking and face agree</source>
        <translation>人证合一, 预约有效</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="271" />
        <source>Security has been alerted</source>
        <translation>已通知安保人员</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="281" />
        <source>No ID photo</source>
        <translation>无证件照</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="282" />
        <source>No live face</source>
        <translation>无现场人脸</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="319" />
        <source>Male</source>
        <translation>男</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="319" />
        <source>Female</source>
        <translation>女</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="321" />
        <source>%1 years</source>
        <translation>%1 岁</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="326" />
        <source>Face comparison: not yet</source>
        <translation>人脸比对: 尚未进行</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="328" />
        <source>Same person</source>
        <translation>同一人</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="329" />
        <source>Uncertain: compare the photos yourself</source>
        <translation>不确定: 请人工核对照片</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="330" />
        <source>Different person</source>
        <translation>非同一人</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="331" />
        <source>Patient declined the face check: verify by hand</source>
        <translation>患者不同意人脸核验, 改为人工核验</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="332" />
        <source>Face comparison unavailable</source>
        <translation>人脸比对不可用</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="336" />
        <source>%1 (distance %2; same below %3, different above %4)</source>
        <translation>%1 (距离 %2; 小于 %3 为同一人, 大于 %4 为非同一人)</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="317" />
        <source>ID card photo</source>
        <translation>证件照</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="343" />
        <source>Live face</source>
        <translation>现场人脸</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="344" />
        <source>Reasons</source>
        <translation>原因</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="346" />
        <source>Name</source>
        <translation>姓名</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="346" />
        <source>ID number</source>
        <translation>证件号码</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="346" />
        <source>Department</source>
        <translation>科室</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="346" />
        <source>Doctor</source>
        <translation>医生</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="347" />
        <source>Time slot</source>
        <translation>就诊时段</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/verdict.py" line="347" />
        <source>Booking reference</source>
        <translation>预约号</translation>
    </message>
</context>
<context>
    <name>WindowActionDialog</name>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="70" />
        <source>%1 / %2 characters</source>
        <translation>%1 / %2 字</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="75" />
        <source>Record appeal</source>
        <translation>记录申诉</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="77" />
        <source>%1 says they are wrongly on the blacklist. Type their statement; it goes to the police, who decide.</source>
        <translation>%1 认为自己被错误列入黑名单。请录入本人的陈述 (申诉理由)，由公安机关复核决定。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="80" />
        <source>Unfreeze booking account</source>
        <translation>解冻预约账号</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="82" />
        <source>The ID card %1 was checked at this window. Unfreeze the booking accounts frozen for this person?</source>
        <translation>已在本窗口核验身份证 %1。确定解冻此人被冻结的预约账号吗？</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="121" />
        <source>Read the person's ID card first.</source>
        <translation>请先读取此人的身份证。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="152" />
        <source>The appeal of %1 is kept on this PC and sent to the platform as soon as it can be reached. Nothing else is needed.</source>
        <translation>中心平台暂时无法连接：%1 的申诉已保存在本机，中心平台恢复连接后自动发送，无需再次录入。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="155" />
        <source>The unfreeze of %1 is kept on this PC and sent to the platform as soon as it can be reached; the account can book again after that.</source>
        <translation>中心平台暂时无法连接：%1 的解冻请求已保存在本机，中心平台恢复连接后自动发送，发送后即可重新预约。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="158" />
        <source>Appeal recorded for %1 (number %2). The police decide; the decision reaches every desk at its next sync.</source>
        <translation>%1 的申诉已记录 (申诉编号 %2)。由公安机关复核决定，结果在各窗口下次同步时生效。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="162" />
        <source>Booking account unfrozen for %1 (%2 account(s)); the person can book again.</source>
        <translation>%1 的预约账号已解冻 (%2 个账号)，可以重新预约挂号。</translation>
    </message>
    <message>
        <location filename="../../ui/checkin/window_actions.py" line="168" />
        <source>Done</source>
        <translation>完成</translation>
    </message>
</context>
</TS>